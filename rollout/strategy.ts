/**
 * Pure planning of a rollout: which devices go in which wave, how a wave is
 * split into batches deployed at once, and when failures cross the abort
 * threshold. No I/O, so every rule is unit-tested on its own.
 */
import { FailureThreshold, RolloutStrategy } from "../config/rolloutStrategy";

export interface Wave {
    /** 0 is the canary wave when the strategy has one. */
    readonly index: number;
    readonly canary: boolean;
    readonly devices: readonly string[];
}

/**
 * Canary first (named devices, or the first N in stack order), then waves of
 * a fixed size or growing by a factor from the canary's size (at least 1).
 * Every device is in exactly one wave, in stack order within a wave.
 */
export function planWaves(devices: readonly string[], strategy: RolloutStrategy): Wave[] {
    const canary = Array.isArray(strategy.canary)
        ? devices.filter((d) => (strategy.canary as readonly string[]).includes(d))
        : devices.slice(0, Math.min(strategy.canary as number, devices.length));
    const rest = devices.filter((d) => !canary.includes(d));
    const waves: Wave[] = [];
    if (canary.length > 0) waves.push({ index: 0, canary: true, devices: canary });
    const factor = strategy.waveGrowthFactor;
    // Rounding up, so that a factor of 1.5 still grows a wave of 1 to 2.
    let size = strategy.waveSize ?? Math.ceil(Math.max(1, canary.length) * factor);
    for (let i = 0; i < rest.length; i += size) {
        if (i > 0 && strategy.waveSize === undefined) size = Math.ceil(size * factor);
        waves.push({ index: waves.length, canary: false, devices: rest.slice(i, i + size) });
    }
    return waves;
}

/** A wave cut into batches of at most `parallel` devices, each one `pulumi up`. */
export function batches<T>(items: readonly T[], parallel: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += Math.max(1, parallel)) out.push(items.slice(i, i + Math.max(1, parallel)));
    return out;
}

/**
 * Resource operations the engine may run at once in one `pulumi up` of a
 * batch (`--parallel`). Its default is four per CPU of the machine running
 * it, and a container created with `wait` holds its slot until the
 * container is healthy (120 s for the seed's playlist_manager): with 8 slots
 * a cold deploy of ten devices ran their ~80 containers eight at a time and
 * took 577 s against 129 s for one device. A device has at most 11
 * containers, a few networks and volumes; 16 slots per device lets all of a
 * batch's devices proceed at once.
 */
export const ENGINE_SLOTS_PER_DEVICE = 16;

export function engineParallelism(devicesInBatch: number): number {
    return ENGINE_SLOTS_PER_DEVICE * Math.max(1, devicesInBatch);
}

/** Failed devices allowed before the rollout aborts, for a stack of `total` devices. */
export function allowedFailures(threshold: FailureThreshold, total: number): number {
    return "devices" in threshold ? threshold.devices : Math.floor((threshold.percent / 100) * total);
}

/**
 * Whether the failures so far abort the rollout. The threshold only applies
 * once `abortMinDevices` devices have been attempted (or all of them have),
 * so one early failure in a large fleet is judged against a meaningful count.
 */
export function crossesAbortThreshold(failed: number, attempted: number, total: number, strategy: RolloutStrategy): boolean {
    if (failed === 0) return false;
    if (attempted < Math.min(strategy.abortMinDevices, total)) return false;
    return failed > allowedFailures(strategy.maxFailed, total);
}

export interface HealthcheckTiming {
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly retries: number;
    readonly startPeriodSeconds: number;
}

/**
 * How long a device's containers may take to turn healthy: the slowest
 * container's start period, then a few of its checks (Docker needs one
 * passing check after the interval; a check that fails during the start
 * period does not count), plus room for the image to start.
 */
export function derivedHealthTimeoutSeconds(checks: readonly HealthcheckTiming[]): number {
    let worst = 60;
    for (const c of checks) worst = Math.max(worst, c.startPeriodSeconds + 2 * c.intervalSeconds + c.timeoutSeconds + 30);
    return worst;
}
