/**
 * Peak memory of a process and all its descendants, from /proc.
 *
 * Once a second, the process tree under a root PID is found from
 * /proc/PID/stat (parent PIDs; not every kernel has the task children files),
 * and each process's VmHWM (its peak resident set) is read from
 * /proc/PID/status. It only reads files: no forks that would compete with what
 * is measured. A process that lives less than a second may be missed; the
 * deploying processes (the CLI, the program, the provider, ssh) live longer.
 */
import * as fs from "node:fs";

export interface ProcessPeak {
    readonly pid: number;
    /** The kernel's name for it (15 characters at most), as of the last sample. */
    readonly comm: string;
    readonly peakKiB: number;
}

export interface Sampler {
    /** Takes one last sample and returns the peak of every process seen. */
    stop(): ProcessPeak[];
}

export function readOrNull(file: string): string | null {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return null; // processes come and go while we look
    }
}

/** Every process's children, by parent PID, as of now. */
export function childrenByParent(): Map<number, number[]> {
    const kids = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = readOrNull(`/proc/${entry}/stat`);
        if (stat === null) continue;
        // "PID (comm) STATE PPID ...": comm may hold spaces and parentheses.
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const list = kids.get(ppid) ?? [];
        list.push(Number(entry));
        kids.set(ppid, list);
    }
    return kids;
}

/** Starts sampling the tree under rootPid every intervalMs until stop(). */
export function samplePeakRss(rootPid: number, intervalMs = 1000): Sampler {
    const peaks = new Map<number, ProcessPeak>();
    const sample = () => {
        if (!fs.existsSync(`/proc/${rootPid}`)) return;
        const kids = childrenByParent();
        const queue = [rootPid];
        for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
            const status = readOrNull(`/proc/${pid}/status`);
            if (status !== null) {
                // Name as of now: a process may have exec'd since the last sample.
                const comm = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? "?";
                const kib = Number(/^VmHWM:\s*(\d+)/m.exec(status)?.[1] ?? NaN);
                if (!Number.isNaN(kib)) peaks.set(pid, { pid, comm, peakKiB: kib });
            }
            queue.push(...(kids.get(pid) ?? []));
        }
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        stop() {
            clearInterval(timer);
            sample();
            return [...peaks.values()];
        },
    };
}

export interface MemorySummary {
    /** The tool's own process. */
    readonly main: { readonly comm: string; readonly peakMiB: number };
    /** Every other kind of process: its largest peak, and how many there were. */
    readonly others: readonly { readonly comm: string; readonly peakMiB: number; readonly count: number }[];
}

// Names as the kernel keeps them; node calls its main thread MainThread.
export const DISPLAY_NAMES: Record<string, string> = {
    MainThread: "node",
    "pulumi-resource": "docker-provider",
    "pulumi-language": "language-host",
};

/**
 * The largest peak of each kind of process, not a sum: `pulumi up` runs its
 * preview and then its update, each with its own program, language host and
 * provider, one after the other.
 */
export function summarize(peaks: readonly ProcessPeak[], mainComm: string): MemorySummary {
    const byComm = new Map<string, { peakKiB: number; count: number }>();
    for (const p of peaks) {
        const comm = DISPLAY_NAMES[p.comm] ?? p.comm;
        const e = byComm.get(comm) ?? { peakKiB: 0, count: 0 };
        byComm.set(comm, { peakKiB: Math.max(e.peakKiB, p.peakKiB), count: e.count + 1 });
    }
    const mib = (kib: number) => Math.round(kib / 1024);
    const others = [...byComm.entries()]
        .filter(([comm]) => comm !== mainComm)
        .sort((a, b) => b[1].peakKiB - a[1].peakKiB)
        .map(([comm, e]) => ({ comm, peakMiB: mib(e.peakKiB), count: e.count }));
    return { main: { comm: mainComm, peakMiB: mib(byComm.get(mainComm)?.peakKiB ?? 0) }, others };
}

/** "pulumi 130 MiB; others, largest each: node 346 MiB x2, ..." */
export function describeMemory(m: MemorySummary): string {
    const others = m.others.map((o) => `${o.comm} ${o.peakMiB} MiB${o.count > 1 ? ` x${o.count}` : ""}`).join(", ");
    return `${m.main.comm} ${m.main.peakMiB} MiB; others, largest each: ${others || "none"}`;
}
