/**
 * How a preview grows with the size of a fleet: `edge-fleet preview` (policy
 * pack included, as CI and the rollout run it) of fleets of N devices that
 * were never deployed, N = 1, 10, 100, 1,000 by default. A fleet of more than
 * EDGE_FLEET_BENCH_SHARD_SIZE devices (25) is split into shard stacks
 * (`edge-fleet:shards`, plan/shards.ts) of about that many devices, previewed
 * two at a time; smaller ones are one stack. Each preview is timed and its
 * whole process tree sampled every 250 ms: resident memory (RSS) and
 * proportional set size (PSS, shared pages counted once) of all processes
 * together, how many run at once, and the CPU time per kind of process.
 *
 * The devices are IPv6 documentation addresses (2001:db8::/32) with made-up
 * host keys, the local stack's registry settings and hardware class, a deploy
 * key and a registry token made for the run. A preview dials no device it has
 * no state for, so no device needs to exist; the program still starts its ssh
 * masters in the background (ssh/master.ts), which fail on their own.
 *
 * EDGE_FLEET_BENCH_FLEET_SIZES lists other sizes (1 to 4,000). A safety limit
 * (EDGE_FLEET_BENCH_FLEET_LIMIT_MIB, 16384, resident) stops a preview whose
 * processes together hold more than that.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { loadAverage } from "../lib/machine";
import { BenchStack } from "../lib/pulumi-stack";
import { capture, check, startLogged, tail } from "../lib/run";
import { BenchContext, Figure, RoundResult, Scenario, ScenarioRun } from "../lib/scenario";
import { secondsSince } from "../lib/timing";
import { describeAtPeak, sampleTree, TreeUsage } from "../lib/tree-sampler";
import { parseShardStack } from "../../../plan/shards";

const STACK = "bench-fleet-scale";
const MAX_DEVICES = 4000;
const SIZES = fleetSizes(process.env.EDGE_FLEET_BENCH_FLEET_SIZES ?? "1,10,100,1000");
const SHARD_SIZE = Number(process.env.EDGE_FLEET_BENCH_SHARD_SIZE ?? 25);
const LIMIT_MIB = Number(process.env.EDGE_FLEET_BENCH_FLEET_LIMIT_MIB ?? 16384);
const PROVIDER = "docker-provider";

export const fleetScaleScenario: Scenario = {
    id: "fleet-scale",
    title: "edge-fleet preview of never-deployed fleets of 1 to 1,000 devices",
    columns: ["seconds", "peakRssMiB", "peakPssMiB", "processes", "providers", "stacks", "cpuSeconds"],
    headers: ["wall s", "peak RSS, all processes, MiB", "peak PSS, all processes, MiB", "processes at once (peak)", "docker providers at once (peak)", "stacks", "CPU s, all processes"],
    create: (ctx) => new FleetScaleBench(ctx),
};

function fleetSizes(list: string): number[] {
    const sizes = list.split(",").map((s) => Number(s.trim()));
    if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_DEVICES)) {
        throw new Error(`EDGE_FLEET_BENCH_FLEET_SIZES must list fleet sizes from 1 to ${MAX_DEVICES}, e.g. 1,10,100,1000`);
    }
    return sizes;
}

/** Shard stacks for a fleet of n: one stack up to the shard size, else about that many devices each. */
export function shardsFor(n: number, shardSize: number = SHARD_SIZE): number {
    return n <= shardSize ? 1 : Math.ceil(n / shardSize);
}

/** A syntactically valid ed25519 host key (wire format) that is the same for a name on every run. */
export function madeUpHostKey(name: string): string {
    const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const blob = Buffer.concat([field(Buffer.from("ssh-ed25519")), field(createHash("sha256").update(name).digest())]);
    return `ssh-ed25519 ${blob.toString("base64")}`;
}

/** Devices at addresses of the IPv6 documentation prefix, which no network routes. */
export function fleetDevices(n: number): Record<string, unknown>[] {
    if (!Number.isInteger(n) || n < 1 || n > MAX_DEVICES) throw new Error(`a bench fleet has 1 to ${MAX_DEVICES} devices`);
    return Array.from({ length: n }, (_, i) => {
        const name = `scale-${String(i + 1).padStart(4, "0")}`;
        return { name, host: `2001:db8::${(i + 1).toString(16)}`, user: "edge", hostPublicKey: madeUpHostKey(name) };
    });
}

interface Run {
    readonly name: string;
    readonly devices: number;
    readonly stacks: number;
    readonly seconds: number;
    readonly usage: TreeUsage;
    readonly load: string;
    /** The preview's exit code, and its first error line when it failed. */
    readonly code: number;
    readonly error?: string;
}

/** The first error line, for the notes; the whole output is in the log. */
function firstError(logFile: string): string {
    const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
    return /error: (.*)/.exec(text)?.[1]?.trim() ?? tail(logFile, 1);
}

class FleetScaleBench implements ScenarioRun {
    private readonly stack: BenchStack;
    private readonly material: string;

    constructor(private readonly ctx: BenchContext) {
        this.stack = new BenchStack(ctx.root, STACK, ctx.stackDir);
        this.material = path.join(ctx.benchDir, "fleet-scale", "material");
    }

    subtitle(): string {
        return `devices never deployed (2001:db8::x), hardware class cpu, the local stack's registry, policy pack on; sizes ${SIZES.join(", ")}; shard stacks of about ${SHARD_SIZE} devices, 2 at a time; sampled every 250 ms`;
    }

    tools(): Promise<Readonly<Record<string, string>>> {
        return Promise.resolve({});
    }

    private secretFiles() {
        return { sshPrivateKey: path.join(this.material, "id_deploy"), registryToken: path.join(this.material, "registry-token") };
    }

    async prepare(): Promise<void> {
        await this.cleanup();
        fs.mkdirSync(this.material, { recursive: true, mode: 0o700 });
        const files = this.secretFiles();
        await check({ cmd: "ssh-keygen", args: ["-q", "-t", "ed25519", "-N", "", "-C", STACK, "-f", files.sshPrivateKey] });
        fs.writeFileSync(files.registryToken, randomBytes(24).toString("hex"), { mode: 0o600 });
    }

    private async writeConfig(n: number): Promise<void> {
        const doc = YAML.parse(fs.readFileSync(path.join(this.ctx.root, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
        const shards = shardsFor(n);
        await this.stack.writeValues({ ...doc.config, "edge-fleet:devices": fleetDevices(n), ...(shards > 1 ? { "edge-fleet:shards": shards } : {}) }, this.secretFiles());
    }

    /**
     * One `edge-fleet preview`, timed and sampled; stopped if its processes
     * outgrow the memory limit. A preview that fails is measured all the
     * same and its error kept: what it started before failing is a finding too.
     */
    private async preview(devices: number, dir: string): Promise<Run> {
        const name = `preview-${devices}`;
        const logFile = path.join(dir, `${name}.log`);
        const loadBefore = loadAverage();
        const t0 = performance.now();
        const cli = path.join(this.ctx.root, "bin", "edge-fleet.cjs");
        const started = startLogged({ cmd: process.execPath, args: [cli, "preview", "--stack", STACK, "--config-file", this.stack.configFile] }, logFile);
        let overLimit: number | undefined;
        const sampler = sampleTree(started.pid, {
            limitMiB: LIMIT_MIB,
            onLimit: (mib) => {
                overLimit = mib;
                this.ctx.log(`${name}: ${mib} MiB exceeds the limit of ${LIMIT_MIB} MiB; stopping it`);
                process.kill(-started.pid, "SIGINT");
                setTimeout(() => {
                    try {
                        process.kill(-started.pid, "SIGKILL");
                    } catch {
                        // gone already
                    }
                }, 10_000).unref();
            },
        });
        let code: number;
        let usage: TreeUsage;
        try {
            code = await started.exited;
        } finally {
            usage = sampler.stop();
        }
        const seconds = secondsSince(t0);
        const load = `${loadBefore}; ${loadAverage()}`;
        const error = overLimit !== undefined ? `stopped at ${overLimit} MiB (limit ${LIMIT_MIB} MiB)` : code !== 0 ? firstError(logFile) : undefined;
        const cpu = Object.entries(usage.cpuSeconds).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
        this.ctx.log(
            `${name}: ${seconds}s, RSS ${usage.peakTotalMiB} MiB, PSS ${usage.peakPssMiB} MiB, ${usage.peakProcesses} processes, ` +
                `${usage.peakConcurrent[PROVIDER] ?? 0} providers at once; CPU s: ${cpu} (load ${load})${error ? `; failed (exit ${code}): ${error}; log: ${logFile}` : ""}`,
        );
        return { name, devices, stacks: shardsFor(devices), seconds, usage, load, code, ...(error ? { error } : {}) };
    }

    async round(_n: number, dir: string): Promise<RoundResult> {
        const runs: Run[] = [];
        for (const n of SIZES) {
            await this.removeShardStacks();
            await this.writeConfig(n);
            runs.push(await this.preview(n, dir));
        }
        return result(runs);
    }

    /** The shard stacks a preview created, by name; they hold no resources. */
    private async removeShardStacks(): Promise<void> {
        const r = await capture({ cmd: "pulumi", args: ["--cwd", this.ctx.root, "stack", "ls", "--json"] });
        if (r.code !== 0) return;
        for (const { name } of JSON.parse(r.stdout) as { name: string }[]) {
            if (parseShardStack(name)?.fleet !== STACK) continue;
            await capture({ cmd: "pulumi", args: ["--cwd", this.ctx.root, "stack", "rm", name, "--yes", "--force", "--non-interactive"] });
        }
    }

    async cleanup(): Promise<void> {
        await this.removeShardStacks();
        await this.stack.remove();
        fs.rmSync(this.material, { recursive: true, force: true });
    }
}

const sum = (o: Readonly<Record<string, number>>) => Math.round(Object.values(o).reduce((a, b) => a + b, 0) * 10) / 10;

function values(r: Run): Record<string, number> {
    return {
        seconds: r.seconds,
        peakRssMiB: r.usage.peakTotalMiB,
        peakPssMiB: r.usage.peakPssMiB,
        processes: r.usage.peakProcesses,
        providers: r.usage.peakConcurrent[PROVIDER] ?? 0,
        stacks: r.stacks,
        cpuSeconds: sum(r.usage.cpuSeconds),
    };
}

const failed = (r: Run) => (r.error ? ` (FAILED, exit ${r.code})` : "");

function result(runs: readonly Run[]): RoundResult {
    const figures: Figure[] = runs.map((r) => ({
        id: `preview-${r.devices}`,
        label: `preview, ${r.devices.toLocaleString("en")} device${r.devices > 1 ? "s" : ""}${r.stacks > 1 ? ` in ${r.stacks} shard stacks` : ""}${failed(r)}`,
        values: values(r),
    }));
    const notes = [
        ...runs.map((r) => `${r.name}: load average (1, 5, 15 min) before and after: ${r.load}; at the memory peak: ${describeAtPeak(r.usage.atPeak)}`),
        ...runs.map((r) => `${r.name}: CPU seconds by kind: ${Object.entries(r.usage.cpuSeconds).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ")}`),
        ...runs.filter((r) => r.error).map((r) => `${r.name} failed (exit ${r.code}): ${r.error}`),
    ];
    return { figures, notes, details: { runs } };
}
