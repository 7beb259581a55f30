/**
 * What a whole process tree holds at once, from /proc: the resident memory of
 * all its processes together (VmRSS summed per sample, its peak over the run)
 * and how many processes it has, in total and per kind. proc-sampler.ts keeps
 * each process's own peak instead, which overstates a tree whose processes
 * peak at different times and says nothing about how many run together.
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

const kindOf = (comm: string) => DISPLAY_NAMES[comm] ?? comm;

/** Starts sampling the tree under rootPid until stop(). */
export function sampleTree(rootPid: number, o: TreeSamplerOptions = {}): TreeSampler {
    let peakTotalKiB = 0;
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
        let processes = 0;
        const queue = [rootPid];
        for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
            queue.push(...(kids.get(pid) ?? []));
            const status = readOrNull(`/proc/${pid}/status`);
            if (status === null) continue;
            const kind = kindOf(/^Name:\s*(.*)$/m.exec(status)?.[1] ?? "?");
            // Kernel threads and zombies have no VmRSS: they hold no memory of their own.
            const kib = Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0);
            processes++;
            totalKiB += kib;
            const e = now.get(kind) ?? { count: 0, kib: 0 };
            now.set(kind, { count: e.count + 1, kib: e.kib + kib });
            const pids = seen.get(kind) ?? new Set<number>();
            pids.add(pid);
            seen.set(kind, pids);
        }
        samples++;
        peakProcesses = Math.max(peakProcesses, processes);
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
            return {
                peakTotalMiB: Math.round(peakTotalKiB / 1024),
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
