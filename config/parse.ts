/**
 * Turns a stack's raw configuration into a validated, fully defaulted
 * FleetConfig, or throws one ConfigError listing every problem. Pure: the
 * caller hands in the values and which keys were stored as secrets. The
 * checks themselves live in issues.ts (structure) and checks.ts (meaning).
 */
import { HARDWARE_PROFILES, HardwareProfile, SERVICE_DEFAULTS, SERVICE_NAMES, STACK_DEFAULTS, ServiceName } from "./defaults";
import { AddProblem, ConfigError, dedupe, problemCollector } from "./errors";
import { checkEnvironment, checkOverride, checkSecrets, checkStorageRoot, cpusOf, isRepository, memoryOf } from "./checks";
import { reportZodIssue } from "./issues";
import { resolveRolloutStrategy } from "./rolloutStrategy";
import { DeviceConfig, FleetConfig, ImageRef, RawConfig, ServiceSettings } from "./model";
import { IMAGE_DIGEST, IMAGE_TAG, RawDevice, RawFleet, RawServiceOverride, SECRET_KEYS, fleetSchema } from "./schema";

const KNOWN_KEYS = [...Object.keys(fleetSchema.shape), ...SECRET_KEYS];

export function parseFleetConfig(raw: RawConfig): FleetConfig {
    const { problems, add } = problemCollector({ values: raw.values, keys: raw.secretKeys });

    for (const key of Object.keys(raw.values)) {
        if (!KNOWN_KEYS.includes(key)) add(key, `unknown setting; allowed: ${KNOWN_KEYS.join(", ")}`, raw.values[key]);
    }
    checkSecrets(raw, add);

    const structured = Object.fromEntries(Object.entries(raw.values).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)));
    const result = fleetSchema.safeParse(structured);
    if (!result.success) {
        for (const issue of result.error.issues) reportZodIssue(issue, structured, add);
        throw new ConfigError(dedupe(problems));
    }
    const fleet = buildFleet(result.data, add);
    if (problems.length > 0) throw new ConfigError(dedupe(problems));
    return fleet;
}

function buildFleet(raw: RawFleet, add: AddProblem): FleetConfig {
    const profile = HARDWARE_PROFILES[raw.hardwareClass];
    const registry = {
        server: raw.registry.server ?? STACK_DEFAULTS.registryServer,
        username: raw.registry.username,
        namespace: raw.registry.namespace ?? STACK_DEFAULTS.registryNamespace,
    };
    const stackRoot = raw.videoStorageRoot ?? STACK_DEFAULTS.videoStorageRoot;
    checkStorageRoot(["videoStorageRoot"], stackRoot, add);
    checkEnvironment(["environment"], raw.environment, add);
    for (const [svc, o] of Object.entries(raw.services ?? {})) checkOverride(["services", svc], o, profile, add);

    const images = resolveImages(raw, registry, add);

    const names = new Map<string, number>();
    const endpoints = new Map<string, number>();
    const devices = raw.devices.map((d, i) => {
        const prevName = names.get(d.name);
        if (prevName !== undefined) add(["devices", i, "name"], `duplicate device name; devices[${prevName}] already uses it`, d.name);
        else names.set(d.name, i);
        // One machine, whatever user name or letter case reaches it: its containers have fixed names.
        const endpoint = `${d.host.toLowerCase()}:${d.port ?? STACK_DEFAULTS.sshPort}`;
        const prevEndpoint = endpoints.get(endpoint);
        if (prevEndpoint !== undefined) add(["devices", i, "host"], `devices[${prevEndpoint}] already deploys to ${endpoint}; one device, one entry`, d.host);
        else endpoints.set(endpoint, i);
        return buildDevice(raw, d, i, stackRoot, images, profile, add);
    });

    const wt = raw.watchtower ?? {};
    const watched = wt.services ?? STACK_DEFAULTS.watchtower.services;
    watched.forEach((svc, i) => {
        if (watched.indexOf(svc) !== i) add(["watchtower", "services", i], `named twice (first at watchtower.services[${watched.indexOf(svc)}])`, svc);
        else if (svc === "watchtower" || svc === "self_monitor") {
            add(["watchtower", "services", i], "watchtower only watches the video services, not the fleet's own agents", svc);
        } else if (devices.length > 0 && !devices.some((d) => d.services.some((s) => s.name === svc))) {
            add(["watchtower", "services", i], "service is not enabled on any device", svc);
        }
    });

    return {
        hardwareClass: raw.hardwareClass,
        profile,
        registry,
        devices,
        logging: {
            maxSizeMiB: raw.logging?.maxSizeMiB ?? STACK_DEFAULTS.logging.maxSizeMiB,
            maxFiles: raw.logging?.maxFiles ?? STACK_DEFAULTS.logging.maxFiles,
        },
        watchtower: {
            intervalSeconds: wt.intervalSeconds ?? STACK_DEFAULTS.watchtower.intervalSeconds,
            cleanup: wt.cleanup ?? STACK_DEFAULTS.watchtower.cleanup,
            includeStopped: wt.includeStopped ?? STACK_DEFAULTS.watchtower.includeStopped,
            monitorOnly: wt.monitorOnly ?? STACK_DEFAULTS.watchtower.monitorOnly,
            services: watched,
        },
        selfMonitor: selfMonitorOf(raw, add),
        orchestrator: { intervalSeconds: raw.orchestrator?.intervalSeconds ?? STACK_DEFAULTS.orchestrator.intervalSeconds },
        stopGraceSeconds: raw.stopGraceSeconds ?? STACK_DEFAULTS.stopGraceSeconds,
        rollout: resolveRolloutStrategy(raw.rollout, raw.devices.map((d) => d.name), add),
    };
}

function selfMonitorOf(raw: RawFleet, add: AddProblem): FleetConfig["selfMonitor"] {
    const sm = raw.selfMonitor ?? {};
    const out = {
        intervalSeconds: sm.intervalSeconds ?? STACK_DEFAULTS.selfMonitor.intervalSeconds,
        maxRestarts: sm.maxRestarts ?? STACK_DEFAULTS.selfMonitor.maxRestarts,
        restartWindowSeconds: sm.restartWindowSeconds ?? STACK_DEFAULTS.selfMonitor.restartWindowSeconds,
    };
    // The monitor looks once per interval; a shorter window never holds more than one restart, so it would cap nothing.
    if (sm.restartWindowSeconds !== undefined && out.restartWindowSeconds < out.intervalSeconds) {
        add(["selfMonitor", "restartWindowSeconds"], `must be at least selfMonitor.intervalSeconds (${out.intervalSeconds})`, sm.restartWindowSeconds);
    }
    return out;
}

function buildDevice(
    raw: RawFleet,
    d: RawDevice,
    i: number,
    stackRoot: string,
    images: ReadonlyMap<ServiceName, ImageRef>,
    profile: HardwareProfile,
    add: AddProblem,
): DeviceConfig {
    const root = d.videoStorageRoot ?? stackRoot;
    if (d.videoStorageRoot !== undefined) checkStorageRoot(["devices", i, "videoStorageRoot"], d.videoStorageRoot, add);
    const deviceOverrides = d.services ?? {};
    for (const [svc, o] of Object.entries(deviceOverrides)) checkOverride(["devices", i, "services", svc], o, profile, add);

    const services: ServiceSettings[] = [];
    for (const name of SERVICE_NAMES) {
        const defaults = SERVICE_DEFAULTS[name];
        const stackO: RawServiceOverride = raw.services?.[name] ?? {};
        const devO: RawServiceOverride = deviceOverrides[name] ?? {};
        const enabled = devO.enabled ?? stackO.enabled ?? !defaults.optional;
        if (!enabled) continue;
        const image = images.get(name);
        if (!image) continue; // already reported by resolveImages
        // What the stack file sets for this one service, kept apart so that the
        // planner (plan/containerSpec.ts) can let it win over a derived value.
        const serviceEnvironment = { ...stringify(stackO.environment), ...stringify(devO.environment) };
        services.push({
            name,
            memoryMiB: memoryOf(devO) ?? memoryOf(stackO) ?? defaults.memoryMiB,
            cpus: cpusOf(devO) ?? cpusOf(stackO) ?? defaults.cpus,
            environment: {
                ...STACK_DEFAULTS.environment,
                ...stringify(raw.environment),
                ...serviceEnvironment,
            },
            serviceEnvironment,
            image,
            ...(defaults.healthcheck ? { healthcheck: { ...defaults.healthcheck, ...stackO.healthcheck, ...devO.healthcheck } } : {}),
        });
    }
    return {
        name: d.name,
        host: d.host,
        port: d.port ?? STACK_DEFAULTS.sshPort,
        user: d.user ?? STACK_DEFAULTS.sshUser,
        hostPublicKey: d.hostPublicKey,
        videoStorageRoot: root,
        services,
    };
}

function resolveImages(raw: RawFleet, registry: FleetConfig["registry"], add: AddProblem): Map<ServiceName, ImageRef> {
    const out = new Map<ServiceName, ImageRef>();
    if (raw.release.tag !== undefined && !IMAGE_TAG.test(raw.release.tag)) {
        add(["release", "tag"], "must be an image tag: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'", raw.release.tag);
    }
    for (const name of SERVICE_NAMES) {
        const r = raw.release.services?.[name] ?? {};
        const p = ["release", "services", name];
        const repository = r.repository ?? `${registry.server}/${registry.namespace}/${name}`;
        if (r.repository !== undefined && !isRepository(r.repository)) {
            add([...p, "repository"], "must be an image repository such as ghcr.io/my-org/tv_api (lower case, no tag or digest)", r.repository);
        }
        if (r.tag !== undefined && !IMAGE_TAG.test(r.tag)) {
            add([...p, "tag"], "must be an image tag: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'", r.tag);
        }
        if (r.digest !== undefined && r.tag !== undefined) {
            add([...p, "digest"], "give either a tag or a digest for one service, not both (a digest pins exactly; the tag would be ignored)", r.digest);
        }
        if (r.digest !== undefined && !IMAGE_DIGEST.test(r.digest)) {
            add([...p, "digest"], "must be sha256: followed by 64 lower-case hex digits", r.digest);
        }
        const tag = r.tag ?? raw.release.tag;
        if (tag === undefined && r.digest === undefined) {
            const enabledAnywhere = SERVICE_DEFAULTS[name].optional
                ? raw.services?.[name]?.enabled === true || raw.devices.some((d) => d.services?.[name]?.enabled === true)
                : true;
            if (enabledAnywhere) add(p, "needs a tag or digest; set release.tag for the whole release or release.services." + name + ".tag", undefined, false);
            continue;
        }
        out.set(name, { repository, ...(tag !== undefined ? { tag } : {}), ...(r.digest !== undefined ? { digest: r.digest } : {}) });
    }
    return out;
}

function stringify(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
    return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}
