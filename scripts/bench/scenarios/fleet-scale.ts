/**
 * How `pulumi preview` grows with the size of a fleet: a stack of N devices
 * that were never deployed (N = 1, 10, 50, 100), each with the docker
 * provider of its own, timed, with the resident memory of all the preview's
 * processes together and how many run at once; then the same preview of 100
 * devices with `--target` on one device (and its dependents), to see whether
 * the other devices' providers still start. A linear fit gives the cost per
 * device and an extrapolation to 1,000 devices, which is not measured.
 *
 * The devices are documentation addresses (198.51.100.0/24) with made-up host
 * keys, the local stack's registry settings and hardware class, a deploy key
 * and a registry token made for the run. A preview dials no device it has no
 * state for, so no device needs to exist; the program still starts its ssh
 * masters in the background (ssh/master.ts), which fail on their own.
 * Every preview runs the project's policy pack, as CI and the rollout do.
 *
 * EDGE_FLEET_BENCH_FLEET_SIZES lists other sizes (at most 100 devices: a
 * provider process per device); the targeted preview uses the largest. A safety limit
 * (EDGE_FLEET_BENCH_FLEET_LIMIT_MIB, 10240) stops a preview whose processes
 * together hold more memory than that.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { loadAverage } from "../lib/machine";
import { BenchStack } from "../lib/pulumi-stack";
import { check, startLogged, tail } from "../lib/run";
import { BenchContext, Figure, RoundResult, Scenario, ScenarioRun } from "../lib/scenario";
import { secondsSince } from "../lib/timing";
import { describeAtPeak, linearFit, sampleTree, TreeUsage } from "../lib/tree-sampler";

const STACK = "bench-fleet-scale";
const MAX_DEVICES = 100;
const SIZES = fleetSizes(process.env.EDGE_FLEET_BENCH_FLEET_SIZES ?? "1,10,50,100");
/** The targeted preview runs on the largest fleet. */
const TARGETED_SIZE = Math.max(...SIZES);
const EXTRAPOLATE_TO = 1000;
const LIMIT_MIB = Number(process.env.EDGE_FLEET_BENCH_FLEET_LIMIT_MIB ?? 10240);
const PROVIDER = "docker-provider";

export const fleetScaleScenario: Scenario = {
    id: "fleet-scale",
    title: "pulumi preview of never-deployed fleets of 1 to 100 devices",
    columns: ["seconds", "peakMiB", "processes", "providers", "ssh"],
    headers: ["wall s", "peak RSS, all processes, MiB", "processes at once (peak)", "docker providers started", "ssh started"],
    create: (ctx) => new FleetScaleBench(ctx),
};

function fleetSizes(list: string): number[] {
    const sizes = list.split(",").map((s) => Number(s.trim()));
    if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_DEVICES)) {
        throw new Error(`EDGE_FLEET_BENCH_FLEET_SIZES must list fleet sizes from 1 to ${MAX_DEVICES}, e.g. 1,10,50,100`);
    }
    return sizes;
}

/** A syntactically valid ed25519 host key (wire format) that is the same for a name on every run. */
export function madeUpHostKey(name: string): string {
    const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const blob = Buffer.concat([field(Buffer.from("ssh-ed25519")), field(createHash("sha256").update(name).digest())]);
    return `ssh-ed25519 ${blob.toString("base64")}`;
}

export function fleetDevices(n: number): Record<string, unknown>[] {
    if (n < 1 || n > 254) throw new Error("a fleet of 1 to 254 devices fits the documentation network");
    return Array.from({ length: n }, (_, i) => {
        const name = `scale-${String(i + 1).padStart(3, "0")}`;
        return { name, host: `198.51.100.${i + 1}`, user: "edge", hostPublicKey: madeUpHostKey(name) };
    });
}

interface Run {
    readonly name: string;
    readonly devices: number;
    readonly seconds: number;
    readonly usage: TreeUsage;
    readonly load: string;
    /** The preview's exit code, and its first error line when it failed. */
    readonly code: number;
    readonly error?: string;
}

/** The engine's first error, for the notes; the whole output is in the log. */
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
        return `devices never deployed (198.51.100.x), hardware class cpu, the local stack's registry, policy pack on; sizes ${SIZES.join(", ")}; sampled every 250 ms`;
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
        await this.stack.writeValues({ ...doc.config, "edge-fleet:devices": fleetDevices(n) }, this.secretFiles());
    }

    /**
     * One preview, timed and sampled; stopped if its processes outgrow the
     * memory limit. A preview that fails is measured all the same and its
     * error kept: what it started before failing is a finding too.
     */
    private async preview(name: string, devices: number, dir: string, extra: readonly string[] = []): Promise<Run> {
        const logFile = path.join(dir, `${name}.log`);
        const loadBefore = loadAverage();
        const t0 = performance.now();
        const started = startLogged(this.stack.command("preview", "--suppress-progress", "--policy-pack", path.join(this.ctx.root, "policy", "analyzer"), ...extra), logFile);
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
        this.ctx.log(`${name}: ${seconds}s, ${usage.peakTotalMiB} MiB, ${usage.peakProcesses} processes, ${usage.distinct[PROVIDER] ?? 0} providers (load ${load})${error ? `; failed (exit ${code}): ${error}; log: ${logFile}` : ""}`);
        return { name, devices, seconds, usage, load, code, ...(error ? { error } : {}) };
    }

    async round(_n: number, dir: string): Promise<RoundResult> {
        const runs: Run[] = [];
        for (const n of SIZES) {
            await this.writeConfig(n);
            runs.push(await this.preview(`preview-${n}`, n, dir));
        }
        if (SIZES[SIZES.length - 1] !== TARGETED_SIZE) await this.writeConfig(TARGETED_SIZE);
        const urn = `urn:pulumi:${STACK}::edge-fleet::edge-fleet:device:EdgeDevice::${fleetDevices(1)[0]!.name as string}`;
        const targeted = await this.preview(`preview-${TARGETED_SIZE}-targeted`, TARGETED_SIZE, dir, ["--target", urn, "--target-dependents"]);
        return result(runs, targeted);
    }

    async cleanup(): Promise<void> {
        await this.stack.remove();
        fs.rmSync(this.material, { recursive: true, force: true });
    }
}

function values(r: Run): Record<string, number> {
    return {
        seconds: r.seconds,
        peakMiB: r.usage.peakTotalMiB,
        processes: r.usage.peakProcesses,
        providers: r.usage.distinct[PROVIDER] ?? 0,
        ssh: r.usage.distinct.ssh ?? 0,
    };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const failed = (r: Run) => (r.error ? ` (FAILED, exit ${r.code})` : "");

function result(runs: readonly Run[], targeted: Run): RoundResult {
    const columns = fleetScaleScenario.columns;
    // Only previews that ran to the end say what a fleet of their size costs.
    const fitted = runs.filter((r) => !r.error);
    const canFit = new Set(fitted.map((r) => r.devices)).size >= 2;
    const fits = Object.fromEntries(columns.map((c) => [c, linearFit(fitted.map((r) => [r.devices, values(r)[c]!] as const))]));
    const slope = Object.fromEntries(columns.map((c) => [c, canFit ? round3(fits[c]!.slope) : null]));
    const extrapolated = Object.fromEntries(columns.map((c) => [c, canFit ? Math.round(fits[c]!.intercept + fits[c]!.slope * EXTRAPOLATE_TO) : null]));
    const figures: Figure[] = [
        ...runs.map((r) => ({ id: `preview-${r.devices}`, label: `preview, ${r.devices} device${r.devices > 1 ? "s" : ""}${failed(r)}`, values: values(r) })),
        { id: "per-device", label: "per device (slope of a linear fit)", values: slope },
        { id: `extrapolated-${EXTRAPOLATE_TO}`, label: `EXTRAPOLATED, not measured: ${EXTRAPOLATE_TO.toLocaleString("en")} devices (linear fit)`, values: extrapolated },
        { id: `targeted-${targeted.devices}`, label: `preview, ${targeted.devices} devices, --target one device + dependents${failed(targeted)}`, values: values(targeted) },
    ];
    const providers = targeted.usage.distinct[PROVIDER] ?? 0;
    const notes = [
        ...[...runs, targeted].map((r) => `${r.name}: load average (1, 5, 15 min) before and after: ${r.load}; at the memory peak: ${describeAtPeak(r.usage.atPeak)}`),
        ...[...runs, targeted].filter((r) => r.error).map((r) => `${r.name} failed (exit ${r.code}): ${r.error}`),
        canFit
            ? `per device (linear fit over ${fitted.map((r) => r.devices).join(", ")}): ${slope.seconds} s, ${slope.peakMiB} MiB, ${slope.processes} processes, ${slope.providers} docker providers`
            : "no linear fit: fewer than two fleet sizes previewed to the end",
        ...(canFit ? [`EXTRAPOLATED to ${EXTRAPOLATE_TO} devices (linear fit, not measured): ${extrapolated.seconds} s, ${extrapolated.peakMiB} MiB, ${extrapolated.processes} processes at once`] : []),
        `--target on one device of ${targeted.devices}: ${providers} docker provider process${providers === 1 ? "" : "es"} started (${targeted.usage.peakConcurrent[PROVIDER] ?? 0} at once)` +
            (targeted.error ? `; the preview failed: ${targeted.error}` : ""),
    ];
    return { figures, notes, details: { runs: [...runs, targeted], fits } };
}
