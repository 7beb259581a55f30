/**
 * Rollback: devices go back to the settings and image digests recorded before
 * this rollout changed them, through the same program (pinned, see
 * config/read.ts) and a targeted `pulumi up`, then are verified healthy.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeviceSnapshot, rollbackSnapshot } from "../plan/deviceSnapshot";
import { deployBatch } from "./deviceOps";
import { gateDevices } from "./gating";
import { checkpoint } from "./pulumiStack";
import { STACKS_AT_ONCE, groupByStack, mapBounded } from "./shardStacks";
import { deployedDevice } from "./state";
import type { RolloutContext } from "./run";

/** true when every device given is back and healthy. */
export async function rollBack(ctx: RolloutContext, devices: readonly string[]): Promise<boolean> {
    const { record, fleet, progress } = ctx;
    const pins: Record<string, DeviceSnapshot> = {};
    for (const d of devices) {
        const before = record.beforeSettings[d];
        if (!before) {
            const r = record.devices[d]!;
            r.reason = `${r.reason ?? "failed"}; no earlier deployment was recorded for it, so it is left as deployed`;
            continue;
        }
        pins[d] = rollbackSnapshot(before, record.devices[d]!.before ?? {}, fleet.devices.find((x) => x.name === d));
    }
    const targets = Object.keys(pins);
    if (targets.length === 0) return devices.length === 0;
    for (const d of targets) {
        record.devices[d]!.status = "rolling back";
        progress.device(d, record.devices[d]!);
    }
    ctx.save();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-pins-"));
    try {
        const pinsFile = path.join(dir, "pins.json");
        fs.writeFileSync(pinsFile, JSON.stringify(pins), { mode: 0o600 });
        // Keep the failure that caused the rollback in the report; the gate below only says whether the rollback held.
        const causes = new Map(targets.map((d) => [d, { reason: record.devices[d]!.reason, problems: record.devices[d]!.problems }]));
        // Each shard stack's devices go back through that stack's own update.
        const parts = await mapBounded(groupByStack(ctx.stacks, targets), STACKS_AT_ONCE, async ([s, ds]) => {
            const outcome = await deployBatch(s, await checkpoint(s), ds, ctx.names, { message: `edge-fleet rollout ${record.id}: rollback of ${ds.join(", ")}`, pinsFile });
            await gateDevices(ctx, ds, outcome, false);
            return { devices: ds, after: await checkpoint(s) };
        });
        const afterOf = new Map(parts.flatMap((p) => p.devices.map((d) => [d, p.after] as const)));
        let ok = targets.length === devices.length;
        for (const d of targets) {
            const r = record.devices[d]!;
            const back = r.status === "healthy" || r.status === "unchanged";
            ok &&= back;
            const digests = { ...(deployedDevice(afterOf.get(d)!, d)?.imageDigests ?? {}) };
            r.after = digests;
            if (back) ctx.store.saveLastGood(d, { settings: pins[d]!, imageDigests: digests, rollout: record.id, at: new Date().toISOString() });
            const cause = causes.get(d)!;
            Object.assign(r, {
                status: back ? "rolled back" : "rollback failed",
                reason: back ? cause.reason : `rollback failed: ${r.reason ?? ""} (after: ${cause.reason ?? ""})`,
                problems: back ? cause.problems : r.problems,
                finishedAt: new Date().toISOString(),
            });
            progress.device(d, r);
        }
        ctx.save();
        return ok;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
