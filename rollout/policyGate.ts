/**
 * The policy pack's verdict on a batch of devices before it is deployed. The
 * Automation API's `up` skips the preview, and the engine judges each
 * resource only as it reaches it: with --continue-on-error the rest of a
 * device would be deployed around a refused container. A preview of the
 * batch with the pack finds every mandatory violation first, so a refused
 * device is not touched at all.
 */
import { EngineEvent } from "@pulumi/pulumi/automation";
import { batchScope, violationText } from "./deviceOps";
import { leftOutEnv } from "../config/read";
import { FleetStack, withEnv } from "./pulumiStack";
import { Checkpoint, deviceOfUrn } from "./state";

/** Device to the mandatory violations of its resources; empty when the pack has nothing against the batch. */
export async function policyRefusals(s: FleetStack, cp: Checkpoint, devices: readonly string[], allDevices: readonly string[]): Promise<Map<string, string[]>> {
    const refused = new Map<string, string[]>();
    const onEvent = (e: EngineEvent) => {
        const p = e.policyEvent;
        if (!p || p.enforcementLevel !== "mandatory") return;
        const d = p.resourceUrn ? deviceOfUrn(p.resourceUrn, allDevices) : undefined;
        // Another device's resource is not this batch's to answer for.
        if (d !== undefined && !devices.includes(d)) return;
        // A violation of no device's resource (the stack's) refuses the whole batch.
        for (const x of d ? [d] : devices) refused.set(x, [...(refused.get(x) ?? []), violationText(p)]);
    };
    try {
        const { targets, leaveOut } = batchScope(cp, s.name, devices, allDevices);
        await withEnv(s, leftOutEnv(leaveOut), () =>
            s.stack.preview({
                target: targets,
                targetDependents: true,
                policyPacks: s.policyPacks,
                onEvent,
                ...(s.configFile ? { configFile: s.configFile } : {}),
            }),
        );
    } catch {
        // A preview that fails for another reason (a device that stopped
        // answering) decides nothing: the update reports that failure itself,
        // and the engine still applies the pack there.
    }
    return refused;
}
