/**
 * Judging the devices of a batch after their `up`: the health gate for those
 * the engine deployed, and for those it failed, what the daemon says about
 * their containers (the report names the service and its last health output).
 */
import { derivedHealthTimeoutSeconds } from "./strategy";
import { BatchOutcome } from "./deviceOps";
import { healthGate, judge, readContainers } from "./health";
import { DeviceRecord } from "./records";
import type { RolloutContext } from "./run";

/** Changes a device's record, saves the rollout and shows the change. */
export function updateDevice(ctx: RolloutContext, d: string, patch: Partial<DeviceRecord>): void {
    Object.assign(ctx.record.devices[d]!, patch);
    ctx.save();
    ctx.progress.device(d, ctx.record.devices[d]!);
}

export async function gateDevices(ctx: RolloutContext, devices: readonly string[], outcome: BatchOutcome, soak = true): Promise<void> {
    const { fleet, progress } = ctx;
    const set = (d: string, patch: Partial<DeviceRecord>) => updateDevice(ctx, d, patch);
    await Promise.all(
        devices.map(async (d) => {
            const device = fleet.devices.find((x) => x.name === d)!;
            const shell = ctx.shells.get(d)!;
            const expected = device.services.map((s) => s.name);
            const engineError = outcome.failed.get(d);
            if (engineError !== undefined) {
                const problems = await readContainers(shell, ctx.stackOf(d).name).then((cs) => judge(expected, cs)).catch(() => []);
                set(d, { status: "failed", reason: engineError, problems, finishedAt: new Date().toISOString() });
                return;
            }
            const timeoutSeconds = fleet.rollout.healthTimeoutSeconds ?? derivedHealthTimeoutSeconds(device.services.flatMap((s) => (s.healthcheck ? [s.healthcheck] : [])));
            const changed = outcome.changed.has(d);
            set(d, { status: "gating" });
            const gate = await healthGate(shell, {
                stack: ctx.stackOf(d).name,
                expected,
                timeoutSeconds,
                // Only a device this run changed has to prove itself over the soak period.
                soakSeconds: soak && changed ? fleet.rollout.soakSeconds : 0,
                onPoll: (healthy, total, phase) => progress.health(d, healthy, total, phase),
            });
            if (gate.passed) set(d, { status: changed ? "healthy" : "unchanged", finishedAt: new Date().toISOString() });
            else set(d, { status: "failed", reason: "health gate failed", problems: [...gate.problems], finishedAt: new Date().toISOString() });
        }),
    );
}
