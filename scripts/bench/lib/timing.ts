/**
 * Timing a deploy: from the start of the tool's command until the device is
 * where the deploy should leave it (usually: every container healthy, which
 * `until` waits for), optionally with the peak memory of the tool's processes.
 */
import * as path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { ProcessPeak, samplePeakRss } from "./proc-sampler";
import { Command, startLogged, tail } from "./run";

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return delay(ms, undefined, { signal });
}

/** Seconds since t0 (from performance.now()), to a tenth, as the figures are printed. */
export function secondsSince(t0: number): number {
    return Math.round((performance.now() - t0) / 100) / 10;
}

export interface TimedOptions {
    /** Logs go to DIR/NAME.log. */
    readonly logDir: string;
    /** Awaited after the command exits; part of the time. */
    readonly until?: () => Promise<void>;
    /** Sample the peak memory of the command and its descendants. */
    readonly sampleMemory?: boolean;
    readonly log: (message: string) => void;
}

export interface Timed {
    readonly seconds: number;
    /** Peak memory per process, when sampled. */
    readonly peaks?: ProcessPeak[];
}

export async function timed(name: string, c: Command, o: TimedOptions): Promise<Timed> {
    const logFile = path.join(o.logDir, `${name}.log`);
    const t0 = performance.now();
    const started = startLogged(c, logFile);
    const sampler = o.sampleMemory ? samplePeakRss(started.pid) : undefined;
    let code: number;
    let peaks: ProcessPeak[] | undefined;
    try {
        code = await started.exited;
    } finally {
        peaks = sampler?.stop();
    }
    if (code !== 0) throw new Error(`${name} failed (exit ${code}); log: ${logFile}\n${tail(logFile, 30)}`);
    try {
        await o.until?.();
    } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}\nlog: ${logFile}`, { cause: e });
    }
    const seconds = secondsSince(t0);
    o.log(`${name}: ${seconds}s`);
    return { seconds, peaks };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
    if (values.length === 0) throw new Error("median of no values");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 10) / 10;
}
