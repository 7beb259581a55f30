/**
 * Stack files and Pulumi key every setting by the project, `edge-fleet:devices`;
 * the program and its tests work with the bare key, `devices`. These helpers
 * are the one place that adds or strips the prefix. Pure: callers that know
 * the project from Pulumi pass it in.
 */

/** The project's name, as in Pulumi.yaml. */
export const PROJECT = "edge-fleet";

/** `edge-fleet:devices` for `devices`. */
export function projectKey(key: string, project: string = PROJECT): string {
    return `${project}:${key}`;
}

/** `devices` for `edge-fleet:devices`; undefined for another namespace's key such as `docker:host`. */
export function bareKey(fullKey: string, project: string = PROJECT): string | undefined {
    const prefix = `${project}:`;
    return fullKey.startsWith(prefix) ? fullKey.slice(prefix.length) : undefined;
}

/** A stack file's `config:` block keyed by bare keys; other namespaces' keys are left out. */
export function projectValues<T>(config: Readonly<Record<string, T>>, project: string = PROJECT): Record<string, T> {
    const out: Record<string, T> = {};
    for (const [fullKey, value] of Object.entries(config)) {
        const key = bareKey(fullKey, project);
        if (key !== undefined) out[key] = value;
    }
    return out;
}

/**
 * A value as Pulumi hands it over: structured values as JSON text, scalars
 * as strings (`pulumi config set` also stores a number written in a stack
 * file as text, "1"). Numbers, booleans and JSON are decoded; anything else
 * stays the string it was.
 */
export function decodeConfigValue(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[") || /^-?\d+(\.\d+)?$/.test(t) || t === "true" || t === "false") {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}
