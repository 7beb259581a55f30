/**
 * The environment every command runs Pulumi in, the same as the npm scripts
 * set up (scripts/lib.sh): the project's own CLI build, a file backend and
 * the local passphrase file under the cache, fully offline. A variable the
 * user already set wins, so a team backend or passphrase is used as given.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { backendPassword, scrubBackendSecret } from "../backend";

export const ROOT = path.resolve(__dirname, "..");

export function cacheDir(): string {
    return process.env.EDGE_FLEET_CACHE ?? path.join(os.homedir(), ".cache", "edge-fleet");
}

/** Sets the defaults in this process, so that the CLI and the program it starts see them. */
export function applyProjectEnv(): void {
    const cache = cacheDir();
    const set = (k: string, v: string) => {
        if (process.env[k] === undefined || process.env[k] === "") process.env[k] = v;
    };
    set("EDGE_FLEET_CACHE", cache);
    set("PULUMI_HOME", path.join(cache, "pulumi-home"));
    if (process.env.PULUMI_HOME === path.join(cache, "pulumi-home")) quietPulumiLogs(process.env.PULUMI_HOME);
    set("PULUMI_BACKEND_URL", `file://${path.join(cache, "state")}`);
    set("PULUMI_SKIP_UPDATE_CHECK", "true");
    set("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true");
    set("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true");
    // Refresh and destroy configure the providers from the state, before any
    // program runs; the deploy keys are written only by the program.
    set("PULUMI_RUN_PROGRAM", "true");
    // Transpiled, not type-checked, on each run (scripts/lib.sh says why).
    set("PULUMI_NODEJS_TRANSPILE_ONLY", "true");
    // Compiled code cached from the first line of every Node.js process the
    // CLI starts (scripts/lib.sh says why).
    set("NODE_COMPILE_CACHE", path.join(cache, "node-compile-cache"));
    const passphraseFile = path.join(cache, "stacks", "passphrase");
    if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && fs.existsSync(passphraseFile)) set("PULUMI_CONFIG_PASSPHRASE_FILE", passphraseFile);
    const bins = [path.join(cache, "bin"), path.join(ROOT, "node_modules", ".bin")];
    const current = (process.env.PATH ?? "").split(":");
    process.env.PATH = [...bins.filter((b) => !current.includes(b)), ...current].join(":");
}

/**
 * Pulumi 3.260 writes a compressed, encrypted debug log of every command under
 * PULUMI_HOME/logs: at fleet scale half of the engine's CPU time. A file in
 * place of the directory turns it off (the CLI goes on without it). Only the
 * project's own PULUMI_HOME; scripts/toolchain.sh does the same.
 */
function quietPulumiLogs(home: string): void {
    const logs = path.join(home, "logs");
    if (!fs.existsSync(home) || fs.statSync(logs, { throwIfNoEntry: false })?.isFile()) return;
    fs.rmSync(logs, { recursive: true, force: true });
    fs.writeFileSync(logs, "");
}

/** The generated config of the `local` stack (scripts/local-stack.sh writes it). */
export function localConfigFile(): string {
    return path.join(cacheDir(), "stacks", "Pulumi.local.yaml");
}

/**
 * A team backend URL may carry the database password
 * (postgres://user:password@host/db), and Pulumi quotes the URL in some of
 * its errors (a locked stack names its lock's URL). Everything this process
 * prints, the Pulumi output it relays included, has the password masked.
 * PGPASSWORD or ~/.pgpass keep it out of the URL in the first place.
 */
export function guardBackendSecret(): void {
    const url = process.env.PULUMI_BACKEND_URL;
    if (!backendPassword(url)) return;
    for (const stream of [process.stdout, process.stderr]) {
        const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
        stream.write = ((chunk: unknown, ...rest: unknown[]) =>
            write(typeof chunk === "string" || Buffer.isBuffer(chunk) ? scrubBackendSecret(chunk.toString(), url) : chunk, ...rest));
    }
}
