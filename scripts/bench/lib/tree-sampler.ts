/**
 * What a whole process tree holds at once, from /proc: the resident memory of
 * all its processes together (VmRSS summed per sample, its peak over the run)
 * and how many processes it has, in total and per kind. proc-sampler.ts keeps
 * each process's own peak instead, which overstates a tree whose processes
 * peak at different times and says nothing about how many run together.
 *
 * Resident memory counts a page once per process that maps it, so a hundred
 * docker providers sharing one binary's pages look far larger than they are;
 * the proportional set size (PSS, /proc/PID/smaps_rollup: each shared page
 * split among its users) adds up to what the machine really holds, and is
 * sampled beside it. CPU time is summed per kind from each process's last
 * sample (utime + stime), to say where a run's work goes.
 *
 * Like proc-sampler.ts it only reads files. A process that lives less than a
 * sampling interval may be missed; the ones a preview scales with (docker
 * providers, ssh) live for most of it.
 */
import { childrenByParent, DISPLAY_NAMES, readOrNull } from "./proc-sampler";

export interface KindAtPeak {
    readonly count: number;
    readonly rssMiB: number;
}

export interface TreeUsage {
    /** Largest sum of the tree's resident memory in one sample. */
    readonly peakTotalMiB: number;
    /** Largest sum of the tree's proportional set size in one sample: what it really held. */
    readonly peakPssMiB: number;
    /** Per kind: CPU seconds (user + system) its processes used, as last sampled. */
    readonly cpuSeconds: Readonly<Record<string, number>>;
    /** Largest number of processes in one sample. */
    readonly peakProcesses: number;
    /** Per kind: the most that ran at once. */
    readonly peakConcurrent: Readonly<Record<string, number>>;
    /** Per kind: how many different processes were seen over the run. */
    readonly distinct: Readonly<Record<string, number>>;
    /** Per kind, the sample with the largest total: how many and how much memory. */
    readonly atPeak: Readonly<Record<string, KindAtPeak>>;
    readonly samples: number;
}

export interface TreeSampler {
    /** Takes one last sample and returns what was seen. */
    stop(): TreeUsage;
}

export interface TreeSamplerOptions {
    readonly intervalMs?: number;
    /** Called once when the tree's total resident memory first exceeds this. */
    readonly limitMiB?: number;
    readonly onLimit?: (totalMiB: number) => void;
}

/** Node.js runs the edge-fleet command, the program and the policy pack: the command line tells them apart. */
function kindOf(comm: string, pid: number): string {
    const kind = DISPLAY_NAMES[comm] ?? comm;
    if (kind !== "node") return kind;
    const cmdline = readOrNull(`/proc/${pid}/cmdline`) ?? "";
    if (/policy/.test(cmdline)) return "policy-pack";
    if (/edge-fleet\.cjs|cli\/main/.test(cmdline)) return "edge-fleet";
    return /cmd\/run/.test(cmdline) ? "program" : kind;
}
/** Kinds a process may show before, or after, it can be told apart. */
const GENERIC_KINDS = new Set(["node", "bash", "?"]);

/** USER_HZ: the unit of utime and stime in /proc/PID/stat, 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** Starts sampling the tree under rootPid until stop(). */
export function sampleTree(rootPid: number, o: TreeSamplerOptions = {}): TreeSampler {
    let peakTotalKiB = 0;
    let peakPssKiB = 0;
    const cpuTicks = new Map<number, { kind: string; ticks: number }>();
    let peakProcesses = 0;
    let samples = 0;
    let limitHit = false;
    const peakConcurrent: Record<string, number> = {};
    const seen = new Map<string, Set<number>>();
    let atPeak: Record<string, KindAtPeak> = {};

    const sample = () => {
        const kids = childrenByParent();
        const now = new Map<string, { count: number; kib: number }>();
        let totalKiB = 0;
        let pssKiB = 0;
        let processes = 0;
        const queue = [rootPid];
        for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
            queue.push(...(kids.get(pid) ?? []));
            const status = readOrNull(`/proc/${pid}/status`);
            if (status === null) continue;
            // A process keeps the kind it was told apart as: an exiting one (a
            // zombie) has no command line and would count as plain node. The
            // policy pack starts as bash, which then runs Node in its place.
            const known = cpuTicks.get(pid)?.kind;
            const kind = known !== undefined && !GENERIC_KINDS.has(known) ? known : kindOf(/^Name:\s*(.*)$/m.exec(status)?.[1] ?? "?", pid);
            // Kernel threads and zombies have no VmRSS: they hold no memory of their own.
            const kib = Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
            processes++;
            totalKiB += kib;
            pssKiB += Number(/^Pss:\s*(\d+)/m.exec(readOrNull(`/proc/${pid}/smaps_rollup`) ?? "")?.[1] ?? 0);
            const stat = readOrNull(`/proc/${pid}/stat`);
            if (stat !== null) {
                // Fields after "(comm) ": state is 0, utime 11, stime 12.
                const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
                cpuTicks.set(pid, { kind, ticks: Number(f[11]) + Number(f[12]) });
            }
            const e = now.get(kind) ?? { count: 0, kib: 0 };
            now.set(kind, { count: e.count + 1, kib: e.kib + kib });
            const pids = seen.get(kind) ?? new Set<number>();
            pids.add(pid);
            seen.set(kind, pids);
        }
        samples++;
        peakProcesses = Math.max(peakProcesses, processes);
        peakPssKiB = Math.max(peakPssKiB, pssKiB);
        for (const [kind, e] of now) peakConcurrent[kind] = Math.max(peakConcurrent[kind] ?? 0, e.count);
        if (totalKiB > peakTotalKiB) {
            peakTotalKiB = totalKiB;
            atPeak = Object.fromEntries([...now].map(([kind, e]) => [kind, { count: e.count, rssMiB: Math.round(e.kib / 1024) }]));
        }
        if (!limitHit && o.limitMiB !== undefined && totalKiB / 1024 > o.limitMiB) {
            limitHit = true;
            o.onLimit?.(Math.round(totalKiB / 1024));
        }
    };
    sample();
    const timer = setInterval(sample, o.intervalMs ?? 250);
    return {
        stop() {
            clearInterval(timer);
            sample();
            const cpu: Record<string, number> = {};
            for (const { kind, ticks } of cpuTicks.values()) cpu[kind] = (cpu[kind] ?? 0) + ticks / TICKS_PER_SECOND;
            return {
                peakTotalMiB: Math.round(peakTotalKiB / 1024),
                peakPssMiB: Math.round(peakPssKiB / 1024),
                cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round(v * 10) / 10])),
                peakProcesses,
                peakConcurrent,
                distinct: Object.fromEntries([...seen].map(([kind, pids]) => [kind, pids.size])),
                atPeak,
                samples,
            };
        },
    };
}

/** "docker-provider x100 3900 MiB, node x3 700 MiB, ...", largest first. */
export function describeAtPeak(atPeak: Readonly<Record<string, KindAtPeak>>): string {
    return Object.entries(atPeak)
        .sort((a, b) => b[1].rssMiB - a[1].rssMiB)
        .map(([kind, e]) => `${kind}${e.count > 1 ? ` x${e.count}` : ""} ${e.rssMiB} MiB`)
        .join(", ");
}

/** Least-squares line through (x, y): y = intercept + slope * x. */
export function linearFit(points: readonly (readonly [number, number])[]): { slope: number; intercept: number } {
    const n = points.length;
    const mx = points.reduce((a, [x]) => a + x, 0) / n;
    const my = points.reduce((a, [, y]) => a + y, 0) / n;
    const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
    const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
    const slope = sxx === 0 ? 0 : sxy / sxx;
    return { slope, intercept: my - slope * mx };
}
