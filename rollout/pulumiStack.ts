/**
 * The stack as the Automation API drives it: the real CLI, the real engine and
 * provider, with the config file the stack was given. Also the two repairs a
 * killed run needs before the next one can start: a lock whose process is
 * gone, and operations the checkpoint still marks as pending.
 */
import { EngineEvent, LocalWorkspace, Stack, UpResult } from "@pulumi/pulumi/automation";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { redactBackendUrl } from "../backend";
import { decodeConfigValue } from "../config/keys";
import { RawConfig } from "../config/model";
import { PINS_FILE_ENV, leftOutEnv } from "../config/read";
import { Checkpoint } from "./state";
import { engineParallelism } from "./strategy";

const run = promisify(execFile);
export const PROJECT = "edge-fleet";

export interface FleetStack {
    readonly name: string;
    readonly configFile?: string;
    /** The project's policy pack (policy/analyzer), run by every preview and up of the stack. */
    readonly policyPacks: string[];
    readonly stack: Stack;
    readonly workspace: LocalWorkspace;
}

/**
 * Opens an existing stack of the project in `projectDir`. The CLI runs in a
 * scratch copy of Pulumi.yaml whose `main` is the project: selecting a stack
 * writes an encryption salt into `Pulumi.<stack>.yaml` beside Pulumi.yaml,
 * and the repository's stack files (or a test's) must not gain one. The
 * config comes from `configFile`, by default the repository's stack file.
 */
export async function openStack(name: string, configFile: string | undefined, projectDir: string, o: { create?: boolean } = {}): Promise<FleetStack> {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-ws-"));
    removeAtExit(scratch);
    const project = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
    fs.writeFileSync(path.join(scratch, "Pulumi.yaml"), `${project.trimEnd()}\nmain: ${JSON.stringify(projectDir)}\n`);
    const repoStackFile = path.join(projectDir, `Pulumi.${name}.yaml`);
    const file = configFile ?? (fs.existsSync(repoStackFile) ? repoStackFile : undefined);
    try {
        const args = { stackName: name, workDir: scratch };
        const stack = await (o.create ? LocalWorkspace.createOrSelectStack(args) : LocalWorkspace.selectStack(args));
        const policyPacks = [path.join(projectDir, "policy", "analyzer")];
        return { name, ...(file ? { configFile: file } : {}), policyPacks, stack, workspace: stack.workspace as LocalWorkspace };
    } catch (e) {
        throw new Error(
            `stack ${JSON.stringify(name)} was not found in ${redactBackendUrl(process.env.PULUMI_BACKEND_URL ?? "")}: ${firstLine(e)}` +
                (name === "local" ? " (run `npm start` once to create it)" : " (create it with `pulumi stack init`)"),
            { cause: e },
        );
    }
}

const atExit = new Set<string>();

/** Directories removed when the process ends; one listener for all of them (a sharded fleet opens dozens of stacks). */
export function removeAtExit(dir: string): void {
    if (atExit.size === 0) process.once("exit", () => atExit.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    atExit.add(dir);
}

/** The stack's configuration, secrets decrypted, as the pure parser takes it. */
export async function readStackConfig(s: FleetStack): Promise<RawConfig> {
    const args = ["config", "--show-secrets", "--json", "--stack", s.name, "--cwd", s.workspace.workDir, ...(s.configFile ? ["--config-file", s.configFile] : [])];
    // The output holds every secret in clear. Neither it nor an error that
    // carries it (execFile's error keeps stdout; JSON.parse quotes the text it
    // fails on) may reach a message: only the command's own error line does.
    const out = await run("pulumi", args, { maxBuffer: 64 * 1024 * 1024 }).then(
        (r) => ({ stdout: r.stdout }),
        (e: unknown) => ({ failed: firstLine((e as { stderr?: unknown }).stderr ?? "") || "pulumi config failed" }),
    );
    if ("failed" in out) throw new Error(`could not read the configuration of stack ${s.name}: ${out.failed}`);
    const all = jsonObject(out.stdout) as Record<string, { value?: string; objectValue?: unknown; secret?: boolean }> | undefined;
    if (all === undefined) throw new Error(`could not read the configuration of stack ${s.name}: \`pulumi config --json\` did not print JSON`);
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [full, v] of Object.entries(all)) {
        if (!full.startsWith(`${PROJECT}:`)) continue;
        const key = full.slice(PROJECT.length + 1);
        // Numbers and booleans arrive as text: decoded as the program decodes them.
        values[key] = v.objectValue !== undefined ? v.objectValue : decodeConfigValue(v.value ?? "");
        if (v.secret) secretKeys.add(key);
    }
    return { values, secretKeys };
}

/** The JSON object in `text`, or undefined: never an error quoting the text. */
function jsonObject(text: string): object | undefined {
    try {
        const v = JSON.parse(text) as unknown;
        return v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined;
    } catch {
        return undefined;
    }
}

export async function checkpoint(s: FleetStack): Promise<Checkpoint> {
    return ((await s.stack.exportStack()).deployment ?? {}) as Checkpoint;
}

export interface UpRequest {
    readonly targets: readonly string[];
    /** Devices the program leaves out of this run (deviceOps.ts batchScope). */
    readonly leaveOut: readonly string[];
    /** How many devices the targets cover (they may name several resources each). */
    readonly devices: number;
    readonly onEvent: (e: EngineEvent) => void;
    /** File of device pins for a rollback (see config/read.ts). */
    readonly pinsFile?: string;
    readonly message: string;
}

export async function upTargets(s: FleetStack, r: UpRequest): Promise<{ ok: boolean; error?: string; result?: UpResult }> {
    // The engine otherwise writes the whole state after every step, one step
    // at a time, each waiting for its write: with ten devices (290 resources,
    // 1.2 MB of state) 73% of the CLI's CPU and a 72 s update that takes 55 s
    // without. Saved once at the end instead, also after a failed step or
    // Ctrl-C; after a SIGKILL the state is as before the update, and the next
    // rollout removes what the run created (removeOrphans) and refreshes the
    // rest from the devices. A `pulumi up` run by hand keeps the default.
    const env = { PULUMI_SKIP_CHECKPOINTS: "true", [PINS_FILE_ENV]: r.pinsFile, ...leftOutEnv(r.leaveOut) };
    try {
        const result = await withStaleLockRecovery(s, () =>
            withEnv(s, env, () =>
                s.stack.up({
                    target: [...r.targets],
                    // Children of a targeted component are its dependents: without
                    // this only the component itself would be updated.
                    targetDependents: true,
                    parallel: engineParallelism(r.devices),
                    refresh: true,
                    // The refresh dials the devices before the program has run;
                    // running it first writes the deploy keys ssh needs (ssh/keyFiles.ts).
                    runProgram: true,
                    continueOnError: true,
                    onEvent: r.onEvent,
                    message: r.message,
                    policyPacks: s.policyPacks,
                    ...(s.configFile ? { configFile: s.configFile } : {}),
                }),
            ),
        );
        return { ok: true, result };
    } catch (e) {
        // Another deployment holds the stack: nothing was done to any device,
        // so no device failed; the whole run has to stop (run.ts).
        if (e instanceof StackLockedError) throw e;
        return { ok: false, error: String((e as Error).message ?? e) };
    }
}

/**
 * Runs `op` with these variables in the environment of the stack's Pulumi
 * CLI (and so of its program and plugins); undefined ones are left unset.
 * The workspace is the stack's own, and a stack runs one operation at a time.
 */
export async function withEnv<T>(s: FleetStack, vars: Readonly<Record<string, string | undefined>>, op: () => Promise<T>): Promise<T> {
    const set = Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined);
    for (const [k, v] of set) s.workspace.envVars[k] = v;
    try {
        return await op();
    } finally {
        for (const [k] of set) delete s.workspace.envVars[k];
    }
}

/** The stack is locked by a deployment that is still running (on this machine or another). */
export class StackLockedError extends Error {}

/**
 * Runs `op`; if the stack is locked only by processes of this machine that
 * are gone (a SIGKILLed CLI), removes their lock and runs it again. A lock of
 * a live process, or of another machine, is left alone and reported.
 */
export async function withStaleLockRecovery<T>(s: FleetStack, op: () => Promise<T>, log: (m: string) => void = () => {}): Promise<T> {
    try {
        return await op();
    } catch (e) {
        const text = String((e as Error).message ?? e);
        if (!/currently locked/.test(text)) throw e;
        // The engine's message may quote the same lock more than once.
        const byHolder = new Map([...text.matchAll(/created by \S+@(\S+) \(pid (\d+)\)/g)].map((m) => [`${m[2]}@${m[1]}`, { host: m[1]!, pid: Number(m[2]) }]));
        const holders = [...byHolder.values()];
        const stale = holders.length > 0 && holders.every((h) => h.host === os.hostname() && !isPulumiAlive(h.pid));
        if (!stale) {
            const who = holders.map((h) => `pid ${h.pid} on ${h.host}`).join(", ");
            throw new StackLockedError(`stack ${s.name} is locked by a running deployment (${who || "unknown holder"}); wait for it, or if it is gone run \`pulumi cancel --stack ${s.name}\``, { cause: e });
        }
        log(`removing the stack lock left by ${holders.map((h) => `pid ${h.pid}`).join(", ")}, which is no longer running`);
        await s.stack.cancel();
        return await op();
    }
}

function isPulumiAlive(pid: number): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").includes("pulumi");
    } catch {
        return false;
    }
}

/**
 * Drops the operations a killed run left pending, so the engine does not stop
 * on them. What they left on the devices (a container created but never
 * recorded, one deleted but still in the state) is reconciled afterwards by
 * the orphan check and the refresh before every `up`.
 */
export async function clearPendingOperations(s: FleetStack, log: (m: string) => void): Promise<string[]> {
    const exported = await withStaleLockRecovery(s, () => s.stack.exportStack(), log);
    const pending = ((exported.deployment ?? {}) as Checkpoint).pending_operations ?? [];
    if (pending.length === 0) return [];
    const names = pending.map((p) => `${p.type} ${p.resource.urn.slice(p.resource.urn.lastIndexOf("::") + 2)}`);
    log(`clearing ${pending.length} operation(s) an interrupted run left pending: ${names.join(", ")}`);
    const deployment = { ...(exported.deployment as Record<string, unknown>), pending_operations: [] };
    await withStaleLockRecovery(s, () => s.stack.importStack({ ...exported, deployment }), log);
    return names;
}

/** The CLI's own `error:` line from a failed command, else the first line of the message. */
export function firstLine(e: unknown): string {
    const lines = String((e as Error)?.message ?? e).trim().split("\n");
    for (const l of lines) {
        const m = /(?:^|\s)error: (.+)$/.exec(l);
        if (m) return m[1]!.trim();
    }
    return lines[0] ?? "";
}
