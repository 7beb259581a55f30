/**
 * What a device was deployed with, kept in the stack's state as an output of
 * its EdgeDevice component: the fleet settings and the device's resolved
 * services. A rollout reads it before it changes the device, and a rollback
 * hands it back to the program (with the image digests the device ran) so the
 * planner produces exactly the containers the device had.
 */
import { DeviceConfig, FleetConfig, ImageRef } from "../config/model";

/** A one-device fleet: everything the planner needs for that device. */
export interface DeviceSnapshot {
    readonly fleet: FleetConfig;
}

export function snapshotOf(fleet: FleetConfig, device: DeviceConfig): DeviceSnapshot {
    return { fleet: { ...fleet, devices: [device] } };
}

export function snapshotDevice(s: DeviceSnapshot): DeviceConfig {
    const d = s.fleet.devices[0];
    if (!d || s.fleet.devices.length !== 1) throw new Error("a device snapshot holds exactly one device");
    return d;
}

/** `repo@sha256:...` as the registry reported it; undefined when it is not one. */
export function parseRepoDigest(repoDigest: string): ImageRef | undefined {
    const m = /^(.+)@(sha256:[a-f0-9]{64})$/.exec(repoDigest);
    return m ? { repository: m[1]!, digest: m[2]! } : undefined;
}

/**
 * The snapshot a rollback deploys: the recorded settings, and for each service
 * whose image the new release changes, the exact digest the device ran. Images
 * the release did not change keep their recorded reference, so their
 * containers are not touched by the rollback.
 */
export function rollbackSnapshot(
    recorded: DeviceSnapshot,
    recordedDigests: Readonly<Record<string, string>>,
    declared: DeviceConfig | undefined,
): DeviceSnapshot {
    const device = snapshotDevice(recorded);
    const declaredImages = new Map((declared?.services ?? []).map((s) => [s.name, s.image]));
    const services = device.services.map((s) => {
        const next = declaredImages.get(s.name);
        const same = next !== undefined && next.repository === s.image.repository && next.tag === s.image.tag && next.digest === s.image.digest;
        const pinned = recordedDigests[s.name] === undefined ? undefined : parseRepoDigest(recordedDigests[s.name]!);
        return same || pinned === undefined ? s : { ...s, image: pinned };
    });
    return snapshotOf(recorded.fleet, { ...device, services });
}
