/**
 * The health gate: every container a device should run exists, runs and is
 * healthy within a timeout, and then, through the soak period, none turns
 * unhealthy, restarts or is replaced. Reading the daemon is the only I/O here;
 * judging what it reports is pure (`judge`, `changedDuringSoak`).
 */
import { LABEL_PREFIX } from "../config/defaults";
import { DeviceShell } from "./deviceShell";

export interface ContainerState {
    readonly name: string;
    readonly id: string;
    readonly running: boolean;
    readonly status: string;
    /** Docker's health status; undefined for a container without a healthcheck. */
    readonly health?: string;
    readonly restartCount: number;
    readonly startedAt: string;
    /** Output of the last healthcheck Docker recorded, as it recorded it. */
    readonly lastHealthOutput?: string;
    readonly image: string;
    readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerProblem {
    readonly service: string;
    readonly state: string;
    readonly healthOutput?: string;
}

/** The stack's containers on a device, as the daemon reports them. */
export async function readContainers(shell: DeviceShell, stack: string): Promise<ContainerState[]> {
    const filter = `label=${LABEL_PREFIX}.stack=${stack}`;
    const r = await shell.run(["sh", "-c", `docker ps -aq --filter '${filter.replace(/'/g, "")}' | xargs -r docker inspect`], 60);
    if (r.code !== 0) throw new Error(`could not read containers on ${shell.device.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    if (r.stdout.trim() === "") return [];
    return (JSON.parse(r.stdout) as Inspected[]).map(toState);
}

/** The part of `docker inspect` the gate reads. */
interface Inspected {
    readonly Name?: string;
    readonly Id: string;
    readonly RestartCount?: number;
    readonly State?: { Running?: boolean; Status?: string; StartedAt?: string; Health?: { Status: string; Log?: { Output?: string }[] } };
    readonly Config?: { Image?: string; Labels?: Record<string, string> | null };
}

function toState(c: Inspected): ContainerState {
    const log = c.State?.Health?.Log ?? [];
    const last = log[log.length - 1]?.Output;
    return {
        name: String(c.Name ?? "").replace(/^\//, ""),
        id: String(c.Id),
        running: c.State?.Running === true,
        status: String(c.State?.Status ?? "unknown"),
        ...(c.State?.Health ? { health: String(c.State.Health.Status) } : {}),
        restartCount: Number(c.RestartCount ?? 0),
        startedAt: String(c.State?.StartedAt ?? ""),
        ...(last !== undefined ? { lastHealthOutput: last.trim() } : {}),
        image: String(c.Config?.Image ?? ""),
        labels: c.Config?.Labels ?? {},
    };
}

/** What keeps a device from passing: missing, stopped, starting or unhealthy containers. */
export function judge(expected: readonly string[], containers: readonly ContainerState[]): ContainerProblem[] {
    const byName = new Map(containers.map((c) => [c.name, c]));
    const problems: ContainerProblem[] = [];
    for (const service of expected) {
        const c = byName.get(service);
        if (!c) problems.push({ service, state: "missing" });
        else if (!c.running) problems.push({ service, state: c.status, ...(c.lastHealthOutput ? { healthOutput: c.lastHealthOutput } : {}) });
        else if (c.health !== undefined && c.health !== "healthy") {
            problems.push({ service, state: c.health, ...(c.lastHealthOutput ? { healthOutput: c.lastHealthOutput } : {}) });
        }
    }
    return problems;
}

/** Containers that restarted or were replaced since `before` (soak failures that health alone would miss). */
export function changedDuringSoak(before: readonly ContainerState[], now: readonly ContainerState[]): ContainerProblem[] {
    const was = new Map(before.map((c) => [c.name, c]));
    const out: ContainerProblem[] = [];
    for (const c of now) {
        const b = was.get(c.name);
        if (!b) continue;
        if (b.id !== c.id) out.push({ service: c.name, state: "replaced during the soak period" });
        else if (c.restartCount !== b.restartCount || c.startedAt !== b.startedAt) {
            out.push({ service: c.name, state: "restarted during the soak period", ...(c.lastHealthOutput ? { healthOutput: c.lastHealthOutput } : {}) });
        }
    }
    return out;
}

export interface GateOptions {
    readonly stack: string;
    readonly expected: readonly string[];
    readonly timeoutSeconds: number;
    readonly soakSeconds: number;
    readonly pollSeconds?: number;
    /** Called on every poll with how many expected containers are healthy. */
    readonly onPoll?: (healthy: number, total: number, phase: "waiting" | "soaking") => void;
}

export type GateResult = { readonly passed: true } | { readonly passed: false; readonly problems: readonly ContainerProblem[] };

export async function healthGate(shell: DeviceShell, o: GateOptions): Promise<GateResult> {
    const poll = (o.pollSeconds ?? 2) * 1000;
    const deadline = Date.now() + o.timeoutSeconds * 1000;
    let current: ContainerState[];
    for (;;) {
        current = await readContainers(shell, o.stack);
        const problems = judge(o.expected, current);
        o.onPoll?.(o.expected.length - problems.length, o.expected.length, "waiting");
        if (problems.length === 0) break;
        if (Date.now() > deadline) return { passed: false, problems };
        await sleep(poll);
    }
    const baseline = current;
    const soakEnd = Date.now() + o.soakSeconds * 1000;
    while (Date.now() < soakEnd) {
        await sleep(Math.min(poll, Math.max(0, soakEnd - Date.now())));
        current = await readContainers(shell, o.stack);
        const problems = [...judge(o.expected, current), ...changedDuringSoak(baseline, current)];
        o.onPoll?.(o.expected.length - judge(o.expected, current).length, o.expected.length, "soaking");
        if (problems.length > 0) return { passed: false, problems };
    }
    return { passed: true };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
