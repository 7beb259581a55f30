/**
 * What the rollout does to a batch of devices through Pulumi: one targeted
 * `pulumi up` (refreshing them first), with the engine's events sorted by
 * device, so that one device's failure is that device's and the others of
 * the batch carry on.
 */
import { EngineEvent, PolicyEvent } from "@pulumi/pulumi/automation";
import { DeviceShell } from "./deviceShell";
import { readContainers } from "./health";
import { FleetStack, PROJECT, checkpoint, upTargets } from "./pulumiStack";
import { Checkpoint, deviceOfUrn, edgeDeviceUrn, stateContainers } from "./state";

export interface BatchOutcome {
    /** Devices where the engine changed something. */
    readonly changed: ReadonlySet<string>;
    /** Device to the first error the engine reported for it. */
    readonly failed: ReadonlyMap<string, string>;
}

const UNCHANGED_OPS = new Set(["same", "read", "refresh", "discard", "remove-pending-replace"]);

export async function deployBatch(
    s: FleetStack,
    devices: readonly string[],
    allDevices: readonly string[],
    opts: { message: string; pinsFile?: string; onStep?: (device: string, op: string, done: boolean) => void },
): Promise<BatchOutcome> {
    const changed = new Set<string>();
    const failed = new Map<string, string>();
    const onEvent = (e: EngineEvent) => {
        const pre = e.resourcePreEvent?.metadata;
        const done = e.resOutputsEvent?.metadata;
        const meta = pre ?? done;
        if (meta) {
            const d = deviceOfUrn(meta.urn, allDevices);
            if (d && devices.includes(d)) {
                if (!UNCHANGED_OPS.has(meta.op)) changed.add(d);
                opts.onStep?.(d, meta.op, done !== undefined);
            }
        }
        const fail = e.resOpFailedEvent?.metadata;
        if (fail) {
            const d = deviceOfUrn(fail.urn, allDevices);
            if (d && !failed.has(d)) failed.set(d, `${fail.op} of ${fail.urn.slice(fail.urn.lastIndexOf("::") + 2)} failed`);
        }
        const policy = e.policyEvent;
        if (policy?.enforcementLevel === "mandatory" && policy.resourceUrn) {
            // A rule the preview could not judge yet (a value known only now) refuses the resource here.
            const d = deviceOfUrn(policy.resourceUrn, allDevices);
            if (d && !failed.has(d)) failed.set(d, `refused by the policy pack: ${violationText(policy)}`);
        }
        const diag = e.diagnosticEvent;
        if (diag && diag.severity === "error" && diag.urn) {
            const d = deviceOfUrn(diag.urn, allDevices);
            // The diagnostic carries the provider's words; they replace the generic line above.
            if (d && !failed.get(d)?.startsWith("refused by the policy pack")) failed.set(d, engineMessage(diag.message));
        }
    };
    const targets = await deviceTargets(s, devices, allDevices);
    const r = await upTargets(s, { targets, devices: devices.length, onEvent, message: opts.message, ...(opts.pinsFile ? { pinsFile: opts.pinsFile } : {}) });
    if (!r.ok && failed.size === 0) {
        // An error no resource owns (the program, the engine) fails every device
        // of the batch. When some device's resource failed, the update fails
        // because of it (continueOnError), and the other devices went through.
        const line = engineMessage(r.error ?? "");
        for (const d of devices) failed.set(d, line || "pulumi up failed");
    }
    return { changed, failed };
}

/**
 * What a targeted operation on these devices names: their components (the
 * children follow with --target-dependents, including resources not created
 * yet) and every resource the state already holds for them, their providers
 * included, so that the refresh before the operation covers exactly them.
 */
export async function deviceTargets(s: FleetStack, devices: readonly string[], allDevices: readonly string[]): Promise<string[]> {
    const cp = await checkpoint(s);
    return [
        ...devices.map((d) => edgeDeviceUrn(s.name, PROJECT, d)),
        ...(cp.resources ?? []).filter((x) => devices.includes(deviceOfUrn(x.urn, allDevices) ?? "")).map((x) => x.urn),
    ];
}

/**
 * Removes containers of this stack on the device that the state does not
 * know: what a run killed between Docker's create and the engine's record
 * leaves behind. They carry our labels and the names the next `up` creates,
 * so they would only block it; data lives in bind mounts and volumes.
 */
export async function removeOrphans(shell: DeviceShell, stack: string, cp: Checkpoint, allDevices: readonly string[]): Promise<string[]> {
    const device = shell.device.name;
    const known = new Set(stateContainers(cp, device, allDevices).map((c) => c.id));
    const orphans = (await readContainers(shell, stack)).filter((c) => c.labels["edge-fleet.device"] === device && !known.has(c.id));
    for (const o of orphans) {
        const r = await shell.run(["docker", "rm", "-f", o.id]);
        if (r.code !== 0) throw new Error(`could not remove container ${o.name} (${o.id.slice(0, 12)}) on ${device}: ${r.stderr.trim()}`);
    }
    return orphans.map((o) => `${o.name} (${o.id.slice(0, 12)})`);
}

/**
 * The provider's words without the engine's wrapping: `1 error occurred: *
 * creating urn:...::dev-tv_api: 1 error occurred: * container failed to be in
 * healthy state` becomes `creating dev-tv_api: container failed to be in healthy state`.
 */
export function engineMessage(text: string): string {
    return text
        .replace(/\d+ errors? occurred:/g, "")
        .replace(/urn:pulumi:[^\s]*::([^\s:]+)/g, "$1")
        .replace(/[\s*]+/g, " ")
        .replace(/ :/g, ":")
        .trim()
        .slice(0, 600);
}

/** `rule: what is wrong`; the engine puts the rule's description first, on a line of its own. */
export function violationText(p: PolicyEvent): string {
    const lines = p.message.trim().split("\n");
    return `${p.policyName}: ${(lines.length > 1 ? lines.slice(1) : lines).join(" ").trim()}`;
}
