/**
 * The registry login watchtower needs, as the file it reads. Pure: the
 * component wraps the result as a secret and uploads it into the container.
 */

/** Docker client config with one registry login, as watchtower reads it. */
export function dockerConfigJson(server: string, username: string, token: string): string {
    const auth = Buffer.from(`${username}:${token}`).toString("base64");
    return JSON.stringify({ auths: { [server]: { auth } } });
}
