/**
 * `edge-fleet rollout`: moves a stack's devices to what its stack file
 * declares, wave by wave, each device gated on health, with rollback to the
 * digests and settings recorded before the device was changed. The strategy
 * comes from rollout/strategy.ts (pure); this file sequences the I/O.
 */
import { createHash } from "node:crypto";
import { DeviceConfig, FleetConfig } from "../config/model";
import { imageReference } from "../plan/containerSpec";
import { DeviceShell, SshMaterial } from "./deviceShell";
import { Progress } from "./progress";
import { FleetStack, StackLockedError, checkpoint, clearPendingOperations } from "./pulumiStack";
import { STACKS_AT_ONCE, StackOfFleet, groupByStack, mapBounded, openFleetStacks } from "./shardStacks";
import { DeviceRecord, RecordStore, RolloutRecord, isRunnerAlive, newRolloutId } from "./records";
import { rollBack } from "./rollback";
import { gateDevices, updateDevice } from "./gating";
import { deployBatch, readStackObjects, removeOrphans } from "./deviceOps";
import { policyRefusals } from "./policyGate";
import { batches, crossesAbortThreshold, planWaves } from "./strategy";
import { Checkpoint, deployedDevice, orphansOf, settingsMatchState, stateContainers } from "./state";
import { snapshotOf } from "../plan/deviceSnapshot";
import * as os from "node:os";

export interface RolloutOptions {
    readonly stackName: string;
    readonly configFile?: string;
    readonly workDir: string;
    readonly resume: boolean;
    readonly store: (stack: string) => Promise<RecordStore>;
    readonly progress: Progress;
    /** Set when the user asked to stop (Ctrl-C): the batch in flight finishes, nothing new starts. */
    readonly stopRequested: () => boolean;
}

export interface RolloutContext {
    /** The Pulumi stacks that deploy its devices: itself, or its shard stacks (plan/shards.ts). */
    readonly stacks: readonly StackOfFleet[];
    /** The stack that deploys a device. */
    readonly stackOf: (device: string) => FleetStack;
    readonly fleet: FleetConfig;
    readonly names: readonly string[];
    readonly shells: ReadonlyMap<string, DeviceShell>;
    readonly record: RolloutRecord;
    readonly save: () => void;
    readonly progress: Progress;
    readonly stopRequested: () => boolean;
    readonly store: RecordStore;
}

/** Exit codes: 0 every device on the release, 1 failed / rolled back / paused / interrupted, 3 done but devices pending. */
export async function runRollout(o: RolloutOptions): Promise<{ record: RolloutRecord; exitCode: number }> {
    // Throws ConfigError before any device is contacted.
    const { fleet, raw, stacks } = await openFleetStacks(o.stackName, o.configFile, o.workDir);
    const byDevice = new Map(stacks.flatMap((x) => x.devices.map((d) => [d, x.s] as const)));
    const stackOf = (d: string) => byDevice.get(d)!;
    const material = new SshMaterial(String(raw.values.sshPrivateKey));
    const store = await o.store(o.stackName);
    try {
        const names = fleet.devices.map((d) => d.name);
        const shells = new Map(fleet.devices.map((d) => [d.name, new DeviceShell(d, material)]));
        const record = openRecord(store, fleet, o.stackName, o.resume, o.progress);
        const save = () => store.save(record);
        save();
        const ctx: RolloutContext = { stacks, stackOf, fleet, names, shells, record, save, progress: o.progress, stopRequested: o.stopRequested, store };
        for (const { s } of stacks) await clearPendingOperations(s, (m) => o.progress.log(`${stacks.length > 1 ? `${s.name}: ` : ""}${m}`));
        for (const { s, devices } of stacks) if (devices.length > 0) recordBefore(ctx, s, devices, await checkpoint(s));
        const exitCode = await runWaves(ctx, o.stopRequested).catch((e: unknown) => {
            if (!(e instanceof StackLockedError)) throw e;
            stoppedByLock(ctx, e.message);
            throw e;
        });
        record.finishedAt = new Date().toISOString();
        save();
        return { record, exitCode };
    } finally {
        material.dispose();
        await store.close();
    }
}

function openRecord(store: RecordStore, fleet: FleetConfig, stack: string, resume: boolean, progress: Progress): RolloutRecord {
    const target = targetDigest(fleet);
    const open = store.unfinished();
    if (open && open.status === "running" && isRunnerAlive(open)) {
        throw new Error(`rollout ${open.id} of stack ${stack} is running (pid ${open.runner.pid} on ${open.runner.host}); wait for it to finish`);
    }
    if (resume && !open) throw new Error(`stack ${stack} has no unfinished rollout to resume; run without --resume to start one`);
    if (open && (resume || open.target === target)) {
        progress.log(`resuming rollout ${open.id} (${open.status}), started ${open.startedAt}`);
        Object.assign(open, { status: "running", runner: { host: os.hostname(), pid: process.pid } });
        delete open.finishedAt;
        return open;
    }
    if (open) {
        open.status = "superseded";
        open.summary = "the stack file changed before this rollout finished; a new rollout took over";
        store.save(open);
    }
    const waves = planWaves(fleet.devices.map((d) => d.name), fleet.rollout).map((w) => [...w.devices]);
    const devices: Record<string, DeviceRecord> = {};
    waves.forEach((w, i) => w.forEach((d) => (devices[d] = { wave: i, status: "waiting" })));
    return {
        id: newRolloutId(),
        stack,
        target,
        release: releaseOf(fleet.devices),
        waves,
        status: "running",
        startedAt: new Date().toISOString(),
        runner: { host: os.hostname(), pid: process.pid },
        devices,
        beforeSettings: {},
    };
}

async function runWaves(ctx: RolloutContext, stopRequested: () => boolean): Promise<number> {
    const { record, fleet } = ctx;
    const strategy = fleet.rollout;
    const total = ctx.names.length;
    const hasCanary = planWaves(ctx.names, strategy)[0]?.canary === true;
    let abortReason: string | undefined;
    for (const [waveIndex, wave] of record.waves.entries()) {
        const todo = wave.filter((d) => !["healthy", "unchanged"].includes(record.devices[d]!.status));
        ctx.progress.wave(waveIndex, wave, hasCanary && waveIndex === 0);
        for (const batch of batches(todo, strategy.parallelDevices)) {
            if (stopRequested()) return finish(ctx, "interrupted", "stopped on request; run again (or with --resume) to continue");
            await runBatch(ctx, batch, waveIndex);
            if (stopRequested()) return finish(ctx, "interrupted", "stopped on request after the devices in flight; run again (or with --resume) to continue");
        }
        const failed = Object.values(record.devices).filter((d) => d.status === "failed" || d.status === "rolled back" || d.status === "rollback failed" || (d.status === "unreachable" && strategy.unreachableIsFailure));
        const attempted = Object.values(record.devices).filter((d) => d.status !== "waiting").length;
        if (hasCanary && waveIndex === 0 && failed.length > 0) abortReason = "the canary failed its health gate";
        else if (crossesAbortThreshold(failed.length, attempted, total, strategy)) {
            abortReason = `${failed.length} of ${attempted} devices failed, more than the ${"devices" in strategy.maxFailed ? strategy.maxFailed.devices : `${strategy.maxFailed.percent}%`} allowed`;
        }
        if (abortReason) break;
    }
    if (abortReason) {
        if (strategy.onFailure === "pause") return finish(ctx, "paused", `${abortReason}; paused: fix the cause, then run again (or --resume)`);
        const changed = Object.entries(record.devices).filter(([, d]) => d.changed && d.status !== "rolled back").map(([n]) => n);
        if (changed.length > 0) ctx.progress.log(`${abortReason}; rolling back ${changed.length} changed device(s): ${changed.join(", ")}`);
        const ok = await rollBack(ctx, changed);
        return finish(ctx, ok ? "rolled back" : "failed", `${abortReason}; ${ok ? "every changed device is back on its last good release" : "ROLLBACK INCOMPLETE"}`);
    }
    const failed = Object.entries(record.devices).filter(([, d]) => ["failed", "rolled back", "rollback failed"].includes(d.status));
    if (failed.length > 0) return finish(ctx, "failed", `${failed.length} device(s) failed and were rolled back: ${failed.map(([n]) => n).join(", ")}`);
    const pending = Object.entries(record.devices).filter(([, d]) => d.status === "unreachable").map(([n]) => n);
    if (pending.length > 0) {
        finish(ctx, "succeeded", `every reachable device is on the release; pending (unreachable): ${pending.join(", ")}; run again once they answer`);
        return 3;
    }
    return finish(ctx, "succeeded", "every device is on the release and healthy");
}

/**
 * Another deployment took the stack's lock: the update that met it changed
 * nothing, so its devices wait for the next run instead of counting as
 * failed (and being rolled back under the other deployment's feet).
 */
function stoppedByLock(ctx: RolloutContext, why: string): void {
    for (const [name, d] of Object.entries(ctx.record.devices)) {
        if (["deploying", "gating", "rolling back"].includes(d.status)) {
            Object.assign(d, { status: "waiting", reason: `not updated: ${why}` });
            ctx.progress.device(name, d);
        }
    }
    finish(ctx, "interrupted", `${why}; run again once it has finished`);
}

function finish(ctx: RolloutContext, status: RolloutRecord["status"], summary: string): number {
    ctx.record.status = status;
    ctx.record.summary = summary;
    ctx.save();
    return status === "succeeded" ? 0 : 1;
}

async function runBatch(ctx: RolloutContext, batch: readonly string[], waveIndex: number): Promise<void> {
    const set = (d: string, patch: Partial<DeviceRecord>) => updateDevice(ctx, d, patch);
    const reachable: string[] = [];
    await Promise.all(
        batch.map(async (d) => {
            // A resumed device starts afresh: what an earlier attempt said no longer holds.
            set(d, { status: "deploying", startedAt: new Date().toISOString(), reason: undefined, problems: undefined });
            const down = await ctx.shells.get(d)!.probe();
            if (down) set(d, { status: "unreachable", reason: `${down.reason}: ${down.detail}`, finishedAt: new Date().toISOString() });
            else reachable.push(d);
        }),
    );
    if (reachable.length === 0) return;
    // Devices of a batch may sit in different shard stacks: each stack's part
    // goes through its own update, two stacks at a time.
    await mapBounded(groupByStack(ctx.stacks, reachable), STACKS_AT_ONCE, ([s, devices]) => runStackBatch(ctx, s, devices, waveIndex));
}

async function runStackBatch(ctx: RolloutContext, s: FleetStack, reachable: readonly string[], waveIndex: number): Promise<void> {
    const { record, progress } = ctx;
    const set = (d: string, patch: Partial<DeviceRecord>) => updateDevice(ctx, d, patch);
    // What the devices hold is read before the state, so that what a `pulumi
    // up` run by hand is creating meanwhile is in the state read after it.
    const seen = await Promise.all(reachable.map((d) => readStackObjects(ctx.shells.get(d)!, s.name)));
    const cp = await checkpoint(s);
    for (const [i, d] of reachable.entries()) {
        const removed = await removeOrphans(ctx.shells.get(d)!, orphansOf(seen[i]!, cp, d, ctx.names));
        if (removed.length > 0) progress.log(`${d}: removed what an interrupted run left behind: ${removed.join(", ")}`);
    }
    // The state does not change before the update below: one export serves the orphan check, the policy preview and the update.
    const refused = await policyRefusals(s, cp, reachable, ctx.names);
    for (const [d, why] of refused) set(d, { status: "failed", reason: `refused by the policy pack: ${why.join("; ")}`, finishedAt: new Date().toISOString() });
    const allowed = reachable.filter((d) => !refused.has(d));
    if (allowed.length === 0) return;
    const outcome = await deployBatch(s, cp, allowed, ctx.names, { message: `edge-fleet rollout ${record.id}: wave ${waveIndex}: ${allowed.join(", ")}` });
    if (ctx.stopRequested() && outcome.failed.size > 0) {
        // Ctrl-C reaches the Pulumi CLI too, which cancels after the operations
        // in flight: that is an interruption, not a failed release, so no
        // rollback; the next run refreshes these devices and finishes them.
        for (const d of allowed) set(d, { status: "waiting", reason: "interrupted during its update; the next run finishes it" });
        return;
    }
    for (const d of allowed) if (outcome.changed.has(d)) record.devices[d]!.changed = true;
    await gateDevices(ctx, allowed, outcome);
    const after = await checkpoint(s);
    for (const d of allowed) {
        const digests = { ...(deployedDevice(after, d)?.imageDigests ?? {}) };
        set(d, { after: digests });
        const r = record.devices[d]!;
        if (r.status === "healthy" || r.status === "unchanged") {
            const device = ctx.fleet.devices.find((x) => x.name === d)!;
            ctx.store.saveLastGood(d, { settings: snapshotOf(ctx.fleet, device), imageDigests: digests, rollout: record.id, at: new Date().toISOString() });
        }
    }
    const failed = allowed.filter((d) => record.devices[d]!.status === "failed");
    if (failed.length > 0) await rollBack(ctx, failed);
}

/**
 * What each device runs before this rollout touches it: its settings (the
 * component's record, or the last good one this tool kept, whichever the
 * state's containers agree with) and image digests. Once per rollout: a
 * resumed run keeps what was recorded when the rollout began.
 */
function recordBefore(ctx: RolloutContext, s: FleetStack, devices: readonly string[], cp: Checkpoint): void {
    const { record, store } = ctx;
    for (const d of devices) {
        if (record.beforeSettings[d] !== undefined) continue;
        const deployed = deployedDevice(cp, d);
        const kept = store.lastGood(d);
        const candidates = [
            ...(deployed ? [{ settings: deployed.settings, imageDigests: deployed.imageDigests }] : []),
            ...(kept ? [{ settings: kept.settings, imageDigests: { ...kept.imageDigests, ...deployed?.imageDigests } }] : []),
        ];
        const good = candidates.find((c) => settingsMatchState(c.settings, cp, d, ctx.names, s.name));
        if (!good) {
            if (stateContainers(cp, d, ctx.names).length > 0) {
                ctx.progress.log(`${d}: what it runs matches no recorded settings (deployed outside a rollout?); if it fails it is reported, not rolled back`);
            }
            continue;
        }
        record.beforeSettings[d] = good.settings;
        record.devices[d]!.before = { ...good.imageDigests };
        store.saveLastGood(d, { settings: good.settings, imageDigests: { ...good.imageDigests }, rollout: record.id, at: new Date().toISOString() });
    }
    ctx.save();
}

function targetDigest(fleet: FleetConfig): string {
    // The strategy is how to get there, not where: changing it does not start a new rollout.
    return createHash("sha256").update(JSON.stringify({ ...fleet, rollout: undefined })).digest("hex").slice(0, 16);
}

function releaseOf(devices: readonly DeviceConfig[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const d of devices) for (const svc of d.services) out[svc.name] ??= imageReference(svc.image);
    return out;
}
