/**
 * What the end-to-end tests drive: the real Pulumi CLI on a stack of their
 * own, against simulated devices made by sim/device.sh, and the devices'
 * Docker daemons queried directly to see what a deploy really did.
 * `npm test` (scripts/test.sh) builds the toolchain and starts the devices first.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { LABEL_PREFIX } from "../../config/defaults";
import { projectKey, projectValues } from "../../config/keys";
import { sshBaseDir } from "../../ssh/keyFiles";

export const ROOT = path.resolve(__dirname, "..", "..");
/** Every preview and up of these tests runs the project's policy pack, as CI and the rollout do. */
export const POLICY_PACK = ["--policy-pack", path.join(ROOT, "policy", "analyzer")];
const CACHE = process.env.EDGE_FLEET_CACHE ?? path.join(os.homedir(), ".cache", "edge-fleet");

export interface SimDevice {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly hostPublicKey: string;
    readonly privateKeyPath: string;
    readonly dockerHost: string;
    readonly registry: { readonly server: string; readonly username: string; readonly passwordFile: string; readonly namespace: string };
}

export function simDevice(name: string): SimDevice {
    return JSON.parse(execFileSync("bash", [path.join(ROOT, "sim", "device.sh"), "env", name], { encoding: "utf8" })) as SimDevice;
}

export interface RunResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly seconds: number;
}

/** Every word the CLI printed in these tests, to search for leaked secrets. */
export const TRANSCRIPT = path.join(CACHE, "e2e-transcript.log");

/** Where and with what environment a command runs: the project directory and this process's environment unless given. */
export interface RunOptions {
    readonly cwd?: string;
    readonly env?: NodeJS.ProcessEnv;
}

export function run(cmd: string, args: readonly string[], input?: string, opts: RunOptions = {}): RunResult {
    const t0 = Date.now();
    const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env });
    const result = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "", seconds: (Date.now() - t0) / 1000 };
    fs.appendFileSync(TRANSCRIPT, `$ ${cmd} ${args.join(" ")}\n${result.stdout}\n${result.stderr}\n`);
    return result;
}

export function docker(device: SimDevice, ...args: string[]): string {
    return execFileSync("docker", ["--host", device.dockerHost, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

/** The `docker ps --filter` for the containers and networks of one stack. */
export function stackFilter(stack: string): string {
    return `label=${LABEL_PREFIX}.stack=${stack}`;
}

/** `docker inspect` of the stack's containers on a device, by container name. */
export function inspectStack(device: SimDevice, stack: string): Record<string, any> {
    const ids = docker(device, "ps", "-aq", "--filter", stackFilter(stack)).split(/\s+/).filter(Boolean);
    if (ids.length === 0) return {};
    const all = JSON.parse(docker(device, "inspect", ...ids)) as any[];
    return Object.fromEntries(all.map((c) => [String(c.Name).replace(/^\//, ""), c]));
}

/** The base config of an e2e stack: Pulumi.local.yaml with these devices. */
export function localConfig(devices: readonly SimDevice[], storageDir: string): Record<string, any> {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
    const values: Record<string, any> = projectValues(doc.config);
    const reg = devices[0]!.registry;
    values.registry = { ...values.registry, server: reg.server, username: reg.username };
    values.devices = devices.map((d) => ({
        name: d.name,
        host: d.host,
        port: d.port,
        user: d.user,
        hostPublicKey: d.hostPublicKey,
        videoStorageRoot: `/var/lib/edge-fleet-sim/${d.name}/${storageDir}`,
    }));
    return values;
}

/**
 * A stack of the real project, with its config in a file of its own (the
 * repo's stack files are left alone) and its secrets set as secrets.
 */
export class TestStack {
    readonly configFile: string;

    private constructor(readonly name: string, private readonly secrets: { sshPrivateKey: string; registryToken: string }) {
        this.configFile = path.join(CACHE, "stacks", `Pulumi.${name}.yaml`);
    }

    static create(name: string, values: Record<string, unknown>, keyFrom: SimDevice): TestStack {
        const stack = new TestStack(name, {
            sshPrivateKey: fs.readFileSync(keyFrom.privateKeyPath, "utf8"),
            registryToken: fs.readFileSync(keyFrom.registry.passwordFile, "utf8").trim(),
        });
        fs.mkdirSync(path.dirname(stack.configFile), { recursive: true });
        fs.rmSync(stack.configFile, { force: true });
        // `pulumi stack init` writes Pulumi.<stack>.yaml beside Pulumi.yaml; a
        // scratch copy of the project keeps that file out of the repository.
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-stack-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
        const sel = run("pulumi", ["stack", "select", "--create", name, "--non-interactive", "--cwd", scratch]);
        // A lock left by a test run that was killed; nothing else uses a test's stack.
        run("pulumi", ["cancel", "--yes", "--stack", name, "--non-interactive", "--cwd", scratch]);
        fs.rmSync(scratch, { recursive: true, force: true });
        if (sel.code !== 0) throw new Error(`pulumi stack select ${name}: ${sel.stderr}`);
        stack.setConfig(values);
        return stack;
    }

    /** Replaces the stack's plain config; keeps its salt and re-sets the secrets. */
    setConfig(values: Record<string, unknown>): void {
        const previous = fs.existsSync(this.configFile) ? ((parseYaml(fs.readFileSync(this.configFile, "utf8")) ?? {}) as Record<string, any>) : {};
        const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [projectKey(k), v]));
        const doc = { ...(previous.encryptionsalt ? { encryptionsalt: previous.encryptionsalt } : {}), config };
        fs.writeFileSync(this.configFile, toYaml(doc, { lineWidth: 0 }), { mode: 0o600 });
        for (const [key, value] of Object.entries(this.secrets)) {
            const r = run("pulumi", ["config", "set", "--stack", this.name, "--config-file", this.configFile, "--secret", key], value);
            if (r.code !== 0) throw new Error(`pulumi config set ${key}: ${r.stderr}`);
        }
    }

    pulumi(command: string, ...args: string[]): RunResult {
        return run("pulumi", [command, "--stack", this.name, "--config-file", this.configFile, "--non-interactive", ...args]);
    }

    up(...args: string[]): RunResult {
        return this.pulumi("up", "--yes", "--suppress-progress", ...POLICY_PACK, ...args);
    }

    /** `pulumi up` in the background, so that a test can interrupt it. */
    upAsync(...args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
        return this.upAsyncIn({}, ...args);
    }

    /** The same, from another working directory or environment. */
    upAsyncIn(opts: RunOptions, ...args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
        return background("pulumi", ["up", "--stack", this.name, "--config-file", this.configFile, "--non-interactive", "--yes", "--suppress-progress", ...POLICY_PACK, ...args], opts);
    }

    preview(...args: string[]): RunResult {
        return this.pulumi("preview", "--suppress-progress", ...POLICY_PACK, ...args);
    }

    destroy(): RunResult {
        return this.pulumi("destroy", "--yes", "--suppress-progress");
    }

    /** Steps of a preview as the engine reports them: `op` and resource `urn`. */
    plannedSteps(): { op: string; urn: string }[] {
        const r = this.pulumi("preview", "--json", ...POLICY_PACK);
        if (r.code !== 0) throw new Error(`pulumi preview failed:\n${r.stdout}\n${r.stderr}`);
        return ((JSON.parse(r.stdout) as { steps?: { op: string; urn: string }[] }).steps ?? []).filter((s) => s.op !== "same");
    }

    outputs(): Record<string, any> {
        // `stack output` reads the state only and takes no --config-file.
        const r = run("pulumi", ["stack", "output", "--stack", this.name, "--json"]);
        if (r.code !== 0) throw new Error(r.stderr);
        return JSON.parse(r.stdout) as Record<string, any>;
    }

    /** The checkpoint the file backend keeps for this stack. */
    stateFile(): string {
        const base = (process.env.PULUMI_BACKEND_URL ?? "").replace(/^file:\/\//, "");
        const found = findFile(path.join(base, ".pulumi", "stacks"), `${this.name}.json`);
        if (!found) throw new Error(`no state file for stack ${this.name} under ${base}`);
        return found;
    }
}

function findFile(dir: string, name: string): string | undefined {
    if (!fs.existsSync(dir)) return undefined;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isFile() && e.name === name) return p;
        if (e.isDirectory()) {
            const f = findFile(p, name);
            if (f) return f;
        }
    }
    return undefined;
}

export interface FileSum {
    readonly size: number;
    readonly sha256: string;
}

/**
 * Size and sha256 of every file under a directory (the simulated devices
 * share this machine's filesystem), by relative path.
 */
export function checksums(dir: string): Record<string, FileSum> {
    const out: Record<string, FileSum> = {};
    const walk = (d: string) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            // Dot files are the stand-ins' write-then-rename temporaries.
            if (e.name.startsWith(".")) continue;
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) {
                // The stand-ins move and rotate their work files while we walk.
                let data: Buffer;
                try {
                    data = fs.readFileSync(p);
                } catch (err) {
                    if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
                    throw err;
                }
                out[path.relative(dir, p)] = { size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
            }
        }
    };
    walk(dir);
    return out;
}

/** sha256 of a file's first `size` bytes: what it held before services appended to it. */
export function prefixSha256(file: string, size: number): string {
    return createHash("sha256").update(fs.readFileSync(file).subarray(0, size)).digest("hex");
}

/**
 * Polls until `probe` gives a value. A probe that throws counts as "not yet":
 * what it looks at may be in the middle of a change (a container being
 * replaced is, for a moment, no container at all); its last error is in the
 * timeout's message.
 */
export async function waitFor<T>(what: string, timeoutSeconds: number, probe: () => T | undefined | false, everySeconds = 2): Promise<T> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let last: unknown;
    for (;;) {
        try {
            const v = probe();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutSeconds}s waiting for ${what}${last ? ` (last: ${String((last as Error).message ?? last)})` : ""}`);
        await new Promise((r) => setTimeout(r, everySeconds * 1000));
    }
}

/**
 * Runs `body` while a background command runs; if `body` fails, the command
 * is stopped and waited for before the failure goes on, so that it cannot
 * keep deploying under the next test.
 */
export async function whileRunning<T>(run: { child: ChildProcess; done: Promise<RunResult> }, body: () => Promise<T>): Promise<T> {
    try {
        return await body();
    } catch (e) {
        try {
            process.kill(-run.child.pid!, "SIGKILL");
        } catch {
            // already gone
        }
        await run.done;
        reapOrphanPlugins();
        throw e;
    }
}

/** The digest the registry serves for `<namespace>/<service>:<tag>`, asked of the registry itself. */
export async function registryDigest(device: SimDevice, service: string, tag: string): Promise<string> {
    const reg = device.registry;
    const auth = Buffer.from(`${reg.username}:${fs.readFileSync(reg.passwordFile, "utf8").trim()}`).toString("base64");
    const res = await fetch(`http://${reg.server}/v2/${reg.namespace}/${service}/manifests/${tag}`, {
        method: "HEAD",
        headers: {
            authorization: `Basic ${auth}`,
            accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json",
        },
    });
    const digest = res.headers.get("docker-content-digest");
    if (!res.ok || !digest) throw new Error(`registry has no ${service}:${tag} (${res.status})`);
    return digest;
}

/** The registry digests of the image a container runs, as its daemon knows them. */
export function runningDigests(device: SimDevice, container: string): string[] {
    const imageId = docker(device, "inspect", "-f", "{{.Image}}", container).trim();
    const repoDigests = JSON.parse(docker(device, "image", "inspect", "-f", "{{json .RepoDigests}}", imageId)) as string[];
    return repoDigests.map((r) => r.split("@")[1]!);
}

/** `npx edge-fleet ...` as a user runs it, in the project directory. */
export function edgeFleet(...args: string[]): RunResult {
    return run(path.join(ROOT, "node_modules", ".bin", "node"), [path.join(ROOT, "bin", "edge-fleet.cjs"), ...args]);
}

/** The same, started in the background (its own process group, so a test can SIGKILL it and the CLI it runs). */
export function edgeFleetAsync(...args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
    return background(path.join(ROOT, "node_modules", ".bin", "node"), [path.join(ROOT, "bin", "edge-fleet.cjs"), ...args]);
}

/** A command in its own process group, its output collected for the result. */
export function background(cmd: string, args: readonly string[], opts: RunOptions = {}): { child: ChildProcess; done: Promise<RunResult> } {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<RunResult>((resolve) =>
        child.on("close", (code, signal) => {
            const r = { code: code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : -1), stdout, stderr, seconds: (Date.now() - t0) / 1000 };
            fs.appendFileSync(TRANSCRIPT, `$ ${path.basename(cmd)} ${args.join(" ")}\n${stdout}\n${stderr}\n`);
            resolve(r);
        }),
    );
    return { child, done };
}

/**
 * Whether the deploy key files the program wrote for a stack are gone, waiting
 * a few seconds for the clean-up that follows the end of the Pulumi CLI.
 */
export async function programKeysGone(stack: string, seconds = 10): Promise<boolean> {
    const dir = path.join(sshBaseDir(), stack);
    for (let i = 0; i < seconds * 4; i++) {
        if (!fs.existsSync(dir)) return true;
        await new Promise((r) => setTimeout(r, 250));
    }
    return false;
}

/**
 * Authorises another device's deploy key on this device, as an operator does
 * when a device joins a fleet (one deploy key per stack). The simulated sshd
 * reads authorized_keys from the device's own /run.
 */
export function authorizeDeployKey(device: SimDevice, keyOf: SimDevice): void {
    const file = path.join(path.dirname(device.dockerHost.replace(/^unix:\/\//, "")), "edge", "authorized_keys");
    const key = fs.readFileSync(`${keyOf.privateKeyPath}.pub`, "utf8").trim();
    const current = fs.readFileSync(file, "utf8");
    if (!current.split("\n").includes(key)) fs.appendFileSync(file, `${current.endsWith("\n") ? "" : "\n"}${key}\n`);
}

/**
 * Stops what a SIGKILLed Pulumi CLI leaves running: it starts its plugins
 * (language host, program, docker providers, policy pack) in process groups
 * of their own, so killing the CLI's group misses them, and nothing tells
 * them to exit. Only orphans (re-parented to init) of this project or cache
 * are stopped; live runs of other test files keep their parents.
 */
export function reapOrphanPlugins(): string[] {
    const reaped: string[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid !== 1) continue;
            const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
            if (!cmdline.includes(ROOT) && !cmdline.includes(CACHE)) continue;
            if (!/pulumi-resource-|pulumi-language-|cmd\/run\/index\.js|policy\/main\.ts/.test(cmdline)) continue;
            process.kill(Number(entry), "SIGKILL");
            reaped.push(`${entry} ${cmdline.slice(0, 80)}`);
        } catch {
            // gone meanwhile
        }
    }
    return reaped;
}
