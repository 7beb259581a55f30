/**
 * Reading a stack's checkpoint (`pulumi stack export`): which resources belong
 * to which device, the containers the state knows, and what each device was
 * last deployed with. Pure functions over the exported deployment.
 */
import { planDevice } from "../plan/containerSpec";
import { DeviceSnapshot } from "../plan/deviceSnapshot";

export interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly id?: string;
    readonly outputs?: Record<string, unknown>;
    readonly inputs?: Record<string, unknown>;
    readonly parent?: string;
    readonly delete?: boolean;
}

export interface Checkpoint {
    readonly resources?: readonly StateResource[];
    readonly pending_operations?: readonly { readonly type: string; readonly resource: StateResource }[];
}

export const EDGE_DEVICE_TYPE = "edge-fleet:device:EdgeDevice";
export const CONTAINER_TYPE = "docker:index/container:Container";
export const NETWORK_TYPE = "docker:index/network:Network";

export const resourceName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** The device a resource belongs to: resources are named `<device>` or `<device>-<part>`; the longest match wins. */
export function deviceOfUrn(urn: string, devices: readonly string[]): string | undefined {
    const name = resourceName(urn);
    let best: string | undefined;
    for (const d of devices) {
        if ((name === d || name.startsWith(`${d}-`)) && (best === undefined || d.length > best.length)) best = d;
    }
    return best;
}

export function edgeDeviceUrn(stack: string, project: string, device: string): string {
    return `urn:pulumi:${stack}::${project}::${EDGE_DEVICE_TYPE}::${device}`;
}

/** Containers the state holds for a device: their container name and Docker id. */
export function stateContainers(cp: Checkpoint, device: string, devices: readonly string[]): { urn: string; name: string; id: string }[] {
    return (cp.resources ?? [])
        .filter((r) => r.type === CONTAINER_TYPE && !r.delete && r.id && deviceOfUrn(r.urn, devices) === device)
        .map((r) => ({ urn: r.urn, name: typeof r.outputs?.name === "string" ? r.outputs.name : "", id: r.id! }));
}

/** Docker ids of the networks the state holds for a device. */
export function stateNetworkIds(cp: Checkpoint, device: string, devices: readonly string[]): string[] {
    return (cp.resources ?? []).filter((r) => r.type === NETWORK_TYPE && !r.delete && r.id && deviceOfUrn(r.urn, devices) === device).map((r) => r.id!);
}

/** What a device holds of a stack, as read from its daemon (rollout/deviceOps.ts readStackObjects). */
export interface DeviceObjects {
    readonly containers: readonly { readonly id: string; readonly name: string; readonly labels: Readonly<Record<string, string>> }[];
    readonly networks: readonly { readonly id: string; readonly name: string }[];
}

/**
 * What a killed run left on a device: the stack's containers and networks
 * that the state neither holds nor has an operation pending for. `seen` must
 * have been read before `cp` was exported: a `pulumi up` run by hand records
 * a pending operation before it creates anything, so whatever it is creating
 * while this runs is then named in `cp`, and is not taken for left behind.
 */
export function orphansOf(seen: DeviceObjects, cp: Checkpoint, device: string, devices: readonly string[]): DeviceObjects {
    const pending = new Set(
        (cp.pending_operations ?? [])
            .filter((op) => deviceOfUrn(op.resource.urn, devices) === device)
            .map((op) => op.resource.inputs?.name)
            .filter((n): n is string => typeof n === "string"),
    );
    const containers = new Set(stateContainers(cp, device, devices).map((c) => c.id));
    const networks = new Set(stateNetworkIds(cp, device, devices));
    return {
        containers: seen.containers.filter((c) => c.labels["edge-fleet.device"] === device && !containers.has(c.id) && !pending.has(c.name)),
        networks: seen.networks.filter((n) => !networks.has(n.id) && !pending.has(n.name)),
    };
}

export interface DeployedDevice {
    readonly settings: DeviceSnapshot;
    /** Service name to `repo@sha256:...` the device pulled. */
    readonly imageDigests: Readonly<Record<string, string>>;
}

/** What the device was last deployed with, from its EdgeDevice component; undefined if never (or by a version that did not record it). */
export function deployedDevice(cp: Checkpoint, device: string): DeployedDevice | undefined {
    const r = (cp.resources ?? []).find((x) => x.type === EDGE_DEVICE_TYPE && resourceName(x.urn) === device);
    const settings = r?.outputs?.settings as DeviceSnapshot | undefined;
    if (!settings?.fleet?.devices?.length) return undefined;
    return { settings, imageDigests: (r?.outputs?.imageDigests ?? {}) as Record<string, string> };
}

/**
 * Whether the state's containers of a device are what these settings plan:
 * same image reference, environment and labels (the labels carry the limits
 * and a digest of the healthcheck). A component's recorded settings are
 * rewritten by every run of the program, targeted at the device or not, so
 * they are only trusted where the device's own resources agree with them.
 */
export function settingsMatchState(settings: DeviceSnapshot, cp: Checkpoint, device: string, devices: readonly string[], stack: string): boolean {
    const d = settings.fleet.devices[0];
    if (!d) return false;
    const specs = planDevice(settings.fleet, d, stack);
    const containers = (cp.resources ?? []).filter((r) => r.type === CONTAINER_TYPE && !r.delete && deviceOfUrn(r.urn, devices) === device);
    if (containers.length !== specs.length) return false;
    return specs.every((spec) => {
        const r = containers.find((c) => resourceName(c.urn) === `${device}-${spec.service}`);
        const inputs = r?.inputs ?? {};
        const envs = [...((inputs.envs as string[] | undefined) ?? [])].sort();
        const labels = Object.fromEntries(((inputs.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));
        return (
            inputs.image === spec.imageReference &&
            JSON.stringify(envs) === JSON.stringify(Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`).sort()) &&
            JSON.stringify(Object.entries(labels).sort()) === JSON.stringify(Object.entries(spec.labels).sort())
        );
    });
}
