/**
 * The semantic checks of a whole stack: limits against the hardware class,
 * storage roots, one entry per device, the release, watchtower's list and the
 * rollout strategy. They run on what passed the schema (salvage.ts), so they
 * see every part that can still be judged; a check whose answer depends on a
 * part that failed its schema is skipped rather than guessed.
 */
import { SERVICE_DEFAULTS, SERVICE_NAMES, STACK_DEFAULTS, ServiceName } from "./defaults";
import { AddProblem } from "./errors";
import { ClassBounds, checkEnvironment, checkOverride, checkStorageRoot, classBounds, isRepository } from "./checks";
import { checkPublishAddress } from "./serviceSecrets";
import { RawRollout, checkRolloutStrategy } from "./rolloutStrategy";
import { SalvageResult, SalvagedFleet, failedWithin } from "./salvage";
import { IMAGE_DIGEST, IMAGE_TAG, RawServiceOverride } from "./schema";

type Failed = SalvageResult["failed"];
type SalvagedDevice = NonNullable<NonNullable<SalvagedFleet["devices"]>[number]>;

export function checkFleet(f: SalvagedFleet, failed: Failed, add: AddProblem): void {
    const bounds = classBounds(f.hardwareClass);
    if (f.videoStorageRoot !== undefined) checkStorageRoot(["videoStorageRoot"], f.videoStorageRoot, add);
    checkEnvironment(["environment"], f.environment, add);
    checkOverrides(["services"], f.services, bounds, add);
    const devices = f.devices ?? [];
    devices.forEach((d, i) => {
        if (d?.videoStorageRoot !== undefined) checkStorageRoot(["devices", i, "videoStorageRoot"], d.videoStorageRoot, add);
        checkOverrides(["devices", i, "services"], d?.services, bounds, add);
    });
    checkOneEntryPerDevice(devices, failed, add);
    checkRelease(f, failed, add);
    checkWatchtower(f, failed, add);
    checkSelfMonitor(f, add);
    if (f.rollout !== undefined) {
        // Its one list, canary, sits in a union, which is kept whole or not at all: no holes.
        checkRolloutStrategy(f.rollout as RawRollout, f.devices?.map((d) => d?.name), add);
    }
}

function checkSelfMonitor(f: SalvagedFleet, add: AddProblem): void {
    const sm = f.selfMonitor;
    if (sm?.restartWindowSeconds === undefined) return;
    const interval = sm.intervalSeconds ?? STACK_DEFAULTS.selfMonitor.intervalSeconds;
    // The monitor looks once per interval; a shorter window never holds more than one restart, so it would cap nothing.
    if (sm.restartWindowSeconds < interval) {
        add(["selfMonitor", "restartWindowSeconds"], `must be at least selfMonitor.intervalSeconds (${interval})`, sm.restartWindowSeconds);
    }
}

function checkOverrides(p: PropertyKey[], overrides: Partial<Record<ServiceName, RawServiceOverride>> | undefined, bounds: ClassBounds, add: AddProblem): void {
    for (const [svc, o] of Object.entries(overrides ?? {})) {
        if (!o) continue;
        checkOverride([...p, svc], o, bounds, add);
        checkPublishAddress([...p, svc], svc, o, add);
    }
}

/** Names, and the machine behind an address: devices whose own field failed are left out of the comparison. */
function checkOneEntryPerDevice(devices: readonly (SalvagedDevice | undefined)[], failed: Failed, add: AddProblem): void {
    const names = new Map<string, number>();
    const endpoints = new Map<string, number>();
    devices.forEach((d, i) => {
        if (d?.name !== undefined) {
            const prev = names.get(d.name);
            if (prev !== undefined) add(["devices", i, "name"], `duplicate device name; devices[${prev}] already uses it`, d.name);
            else names.set(d.name, i);
        }
        // A port that failed its schema is unknown, not the default.
        if (d?.host === undefined || failedWithin(failed, ["devices", i, "port"])) return;
        // One machine, whatever user name or letter case reaches it: its containers have fixed names.
        const endpoint = endpointOf(d.host, d.port ?? STACK_DEFAULTS.sshPort);
        const prev = endpoints.get(endpoint);
        if (prev !== undefined) add(["devices", i, "host"], `devices[${prev}] already deploys to ${endpoint}; one device, one entry`, d.host);
        else endpoints.set(endpoint, i);
    });
}

/** `host:port` with the host in one spelling: lower case, an IPv6 address compressed and in brackets. */
export function endpointOf(host: string, port: number): string {
    if (!host.includes(":")) return `${host.toLowerCase()}:${port}`;
    try {
        // The URL parser writes an IPv6 address in its one canonical form (RFC 5952).
        return `${new URL(`ssh://[${host}]/`).hostname}:${port}`;
    } catch {
        // A scoped address (fe80::1%eth0) is not a URL host; compare it as written.
        return `[${host.toLowerCase()}]:${port}`;
    }
}

function checkRelease(f: SalvagedFleet, failed: Failed, add: AddProblem): void {
    const release = f.release;
    if (release === undefined) return;
    const tagMessage = "must be an image tag: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'";
    if (release.tag !== undefined && !IMAGE_TAG.test(release.tag)) add(["release", "tag"], tagMessage, release.tag);
    for (const name of SERVICE_NAMES) {
        const r = release.services?.[name] ?? {};
        const p = ["release", "services", name];
        if (r.repository !== undefined && !isRepository(r.repository)) {
            add([...p, "repository"], "must be an image repository such as ghcr.io/my-org/tv_api (lower case, no tag or digest)", r.repository);
        }
        if (r.tag !== undefined && !IMAGE_TAG.test(r.tag)) add([...p, "tag"], tagMessage, r.tag);
        if (r.digest !== undefined && r.tag !== undefined) {
            add([...p, "digest"], "give either a tag or a digest for one service, not both (a digest pins exactly; the tag would be ignored)", r.digest);
        }
        if (r.digest !== undefined && !IMAGE_DIGEST.test(r.digest)) add([...p, "digest"], "must be sha256: followed by 64 lower-case hex digits", r.digest);
        if (r.tag !== undefined || r.digest !== undefined || release.tag !== undefined) continue;
        // A tag that failed its schema is there, only wrong: asking for one would be a second message.
        if (failedWithin(failed, ["release", "tag"]) || failedWithin(failed, p)) continue;
        if (SERVICE_DEFAULTS[name].optional && !enabledSomewhere(f, name)) continue;
        add(p, `needs a tag or digest; set release.tag for the whole release or release.services.${name}.tag`, undefined, false);
    }
}

/** Whether the stack file turns an optional service on anywhere: only an explicit `enabled: true` counts. */
function enabledSomewhere(f: SalvagedFleet, name: ServiceName): boolean {
    return f.services?.[name]?.enabled === true || (f.devices ?? []).some((d) => d?.services?.[name]?.enabled === true);
}

function checkWatchtower(f: SalvagedFleet, failed: Failed, add: AddProblem): void {
    const p = ["watchtower", "services"];
    const watched = f.watchtower?.services ?? (failedWithin(failed, p) ? [] : STACK_DEFAULTS.watchtower.services);
    const devices = f.devices ?? [];
    // Which services run where is only known when no override or device failed its schema.
    const enablingKnown = !failedWithin(failed, ["services"]) && !failed.some((q) => q[0] === "devices" && (q.length <= 2 || q[2] === "services"));
    watched.forEach((svc, i) => {
        if (svc === undefined) return;
        const first = watched.indexOf(svc);
        if (first !== i) add([...p, i], `named twice (first at watchtower.services[${first}])`, svc);
        else if (svc === "watchtower" || svc === "self_monitor") add([...p, i], "watchtower only watches the video services, not the fleet's own agents", svc);
        else if (enablingKnown && devices.length > 0 && !devices.some((d) => d !== undefined && enabledOn(f, d, svc))) {
            add([...p, i], "service is not enabled on any device", svc);
        }
    });
}

function enabledOn(f: SalvagedFleet, d: SalvagedDevice, name: ServiceName): boolean {
    return d.services?.[name]?.enabled ?? f.services?.[name]?.enabled ?? !SERVICE_DEFAULTS[name].optional;
}
