/**
 * What the rollout does to a batch of devices through Pulumi: one targeted
 * `pulumi up` (refreshing them first), with the engine's events sorted by
 * device, so that one device's failure is that device's and the others of
 * the batch carry on.
 */
import { EngineEvent, PolicyEvent } from "@pulumi/pulumi/automation";
import { DeviceShell } from "./deviceShell";
import { readContainers } from "./health";
import { FleetStack, PROJECT, upTargets } from "./pulumiStack";
import { Checkpoint, DeviceObjects, deviceOfUrn, edgeDeviceUrn } from "./state";
import { LABEL_PREFIX } from "../config/defaults";

export interface BatchOutcome {
    /** Devices where the engine changed something. */
    readonly changed: ReadonlySet<string>;
    /** Device to the first error the engine reported for it. */
    readonly failed: ReadonlyMap<string, string>;
}

export interface BatchScope {
    readonly targets: string[];
    readonly leaveOut: string[];
}

const UNCHANGED_OPS = new Set(["same", "read", "refresh", "discard", "remove-pending-replace"]);

/** `cp`: the stack's state before this update (batchScope). */
export async function deployBatch(
    s: FleetStack,
    cp: Checkpoint,
    devices: readonly string[],
    allDevices: readonly string[],
    opts: { message: string; pinsFile?: string; onStep?: (device: string, op: string, done: boolean) => void },
): Promise<BatchOutcome> {
    const changed = new Set<string>();
    const failed = new Map<string, string>();
    // Only this batch's devices: anything else the engine reports (another
    // device's resource) is no device of the batch's doing.
    const ofBatch = (urn: string) => {
        const d = deviceOfUrn(urn, allDevices);
        return d !== undefined && devices.includes(d) ? d : undefined;
    };
    const onEvent = (e: EngineEvent) => {
        const pre = e.resourcePreEvent?.metadata;
        const done = e.resOutputsEvent?.metadata;
        const meta = pre ?? done;
        const d = meta ? ofBatch(meta.urn) : undefined;
        if (meta && d) {
            if (!UNCHANGED_OPS.has(meta.op)) changed.add(d);
            opts.onStep?.(d, meta.op, done !== undefined);
        }
        const fail = e.resOpFailedEvent?.metadata;
        const failedDevice = fail ? ofBatch(fail.urn) : undefined;
        if (fail && failedDevice && !failed.has(failedDevice)) failed.set(failedDevice, `${fail.op} of ${fail.urn.slice(fail.urn.lastIndexOf("::") + 2)} failed`);
        const policy = e.policyEvent;
        const refusedDevice = policy?.enforcementLevel === "mandatory" && policy.resourceUrn ? ofBatch(policy.resourceUrn) : undefined;
        // A rule the preview could not judge yet (a value known only now) refuses the resource here.
        if (policy && refusedDevice && !failed.has(refusedDevice)) failed.set(refusedDevice, `refused by the policy pack: ${violationText(policy)}`);
        const diag = e.diagnosticEvent;
        const diagDevice = diag?.severity === "error" && diag.urn ? ofBatch(diag.urn) : undefined;
        // The diagnostic carries the provider's words; they replace the generic line above.
        if (diag && diagDevice && !failed.get(diagDevice)?.startsWith("refused by the policy pack")) failed.set(diagDevice, engineMessage(diag.message));
    };
    const scope = batchScope(cp, s.name, devices, allDevices);
    const r = await upTargets(s, { ...scope, devices: devices.length, onEvent, message: opts.message, ...(opts.pinsFile ? { pinsFile: opts.pinsFile } : {}) });
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
 * `leaveOut`: the stack's other devices that the state holds nothing of. The
 * program leaves them out of this run (EDGE_FLEET_LEAVE_OUT, config/read.ts):
 * the engine creates a device's provider even when the device is not
 * targeted, and fails on it because its parent component is not created, so
 * a first deploy of any batch of a fleet would fail; and the policy pack
 * would judge their never-declared containers as empty. `cp` is the stack's
 * state as the caller last read it (an export takes about a second): valid
 * until an update changes the state.
 */
export function batchScope(cp: Checkpoint, stack: string, devices: readonly string[], allDevices: readonly string[]): BatchScope {
    // Each resource's device once: deviceOfUrn compares the name with every device of the fleet.
    const owned = (cp.resources ?? []).map((x) => ({ urn: x.urn, device: deviceOfUrn(x.urn, allDevices) }));
    const inState = new Set(owned.map((x) => x.device));
    return {
        targets: [
            ...devices.map((d) => edgeDeviceUrn(stack, PROJECT, d)),
            ...owned.filter((x) => x.device !== undefined && devices.includes(x.device)).map((x) => x.urn),
        ],
        leaveOut: allDevices.filter((d) => !devices.includes(d) && !inState.has(d)),
    };
}

/** The stack's containers and networks on a device, to be read before the state (see orphansOf). */
export async function readStackObjects(shell: DeviceShell, stack: string): Promise<DeviceObjects> {
    const [containers, networks] = await Promise.all([readContainers(shell, stack), readNetworks(shell, stack)]);
    return { containers, networks };
}

/**
 * Removes what a killed run created without the state recording it
 * (state.ts orphansOf). A rollout's `up` saves the state once at its end
 * (PULUMI_SKIP_CHECKPOINTS, see pulumiStack.ts), so after a SIGKILL that is
 * everything the run created. Containers carry our labels and the names the
 * next `up` creates, so they would only block it (data lives in bind mounts
 * and volumes); a network left behind would be created a second time under
 * the same name, which Docker before API 1.44 allows, and containers could
 * no longer join it by name.
 */
export async function removeOrphans(shell: DeviceShell, orphans: DeviceObjects): Promise<string[]> {
    const device = shell.device.name;
    for (const o of orphans.containers) {
        const r = await shell.run(["docker", "rm", "-f", o.id]);
        if (r.code !== 0) throw new Error(`could not remove container ${o.name} (${o.id.slice(0, 12)}) on ${device}: ${r.stderr.trim()}`);
    }
    for (const n of orphans.networks) {
        const r = await shell.run(["docker", "network", "rm", n.id]);
        if (r.code !== 0) throw new Error(`could not remove network ${n.name} (${n.id.slice(0, 12)}) on ${device}: ${r.stderr.trim()}`);
    }
    return [...orphans.containers.map((o) => `${o.name} (${o.id.slice(0, 12)})`), ...orphans.networks.map((n) => `network ${n.name} (${n.id.slice(0, 12)})`)];
}

/** The stack's networks on a device (each device's daemon holds only its own). */
async function readNetworks(shell: DeviceShell, stack: string): Promise<{ id: string; name: string }[]> {
    const r = await shell.run(["docker", "network", "ls", "--no-trunc", "--filter", `label=${LABEL_PREFIX}.stack=${stack}`, "--format", "{{.ID}} {{.Name}}"], 60);
    if (r.code !== 0) throw new Error(`could not read networks on ${shell.device.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout
        .split("\n")
        .map((l) => l.trim().split(" "))
        .filter(([id]) => id)
        .map(([id, name]) => ({ id: id!, name: name ?? "" }));
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
