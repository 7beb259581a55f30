/**
 * Turns a stack's raw configuration into a validated, fully defaulted
 * FleetConfig, or throws one ConfigError listing every problem. Pure: the
 * caller hands in the values and which keys were stored as secrets. Every
 * part is checked against its schema (salvage.ts, issues.ts) and the parts
 * that pass are checked for meaning (fleetChecks.ts, checks.ts), so schema and
 * semantic problems are reported together.
 */
import { HARDWARE_PROFILES, HealthcheckDefaults, SERVICE_DEFAULTS, SERVICE_NAMES, STACK_DEFAULTS, ServiceName } from "./defaults";
import { ConfigError, dedupe, orderProblems, problemCollector } from "./errors";
import { checkSecrets, cpusOf, looksLikeCredential, memoryOf } from "./checks";
import { checkFleet } from "./fleetChecks";
import { resolveRolloutStrategy } from "./rolloutStrategy";
import { salvageFleet } from "./salvage";
import { DeviceConfig, FleetConfig, ImageRef, RawConfig, ServiceSettings } from "./model";
import { OPTIONAL_SECRET_KEYS, RawDevice, RawFleet, RawServiceOverride, SECRET_KEYS, fleetSchema } from "./schema";
import { serviceSecretNames, withSecretNames } from "./serviceSecrets";

const STRUCTURED_KEYS = Object.keys(fleetSchema.shape);
const TOP_SECRETS: readonly string[] = [...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS];
const KNOWN_KEYS = [...STRUCTURED_KEYS, ...TOP_SECRETS];

export function parseFleetConfig(raw: RawConfig): FleetConfig {
    const { problems, add } = problemCollector({ values: raw.values, keys: raw.secretKeys });

    const structured: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw.values)) {
        if (TOP_SECRETS.includes(key)) continue;
        if (STRUCTURED_KEYS.includes(key)) structured[key] = value;
        else add(key, unknownSetting(key), value, !looksLikeCredential(key));
    }
    checkSecrets(raw, add);
    const secretNames = serviceSecretNames(raw, add);
    // Schema and meaning in one pass: every part is checked against its
    // schema, and the semantic checks run on the parts that passed.
    const { fleet, failed } = salvageFleet(structured, add);
    checkFleet(fleet, failed, add);
    if (problems.length > 0) throw new ConfigError(orderProblems(dedupe(problems), KNOWN_KEYS));
    // Secrets for services that run nowhere can only be told once the devices are built.
    const built = withSecretNames(buildFleet(fleetSchema.parse(structured)), secretNames, add);
    if (problems.length > 0) throw new ConfigError(orderProblems(dedupe(problems), KNOWN_KEYS));
    return built;
}

function unknownSetting(key: string): string {
    const meant = KNOWN_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    return `unknown setting${meant ? ` (did you mean ${meant}?)` : ""}; allowed: ${KNOWN_KEYS.join(", ")}`;
}

/** The validated configuration with every default filled in; all checks have passed. */
function buildFleet(raw: RawFleet): FleetConfig {
    const registry = {
        server: raw.registry.server ?? STACK_DEFAULTS.registryServer,
        username: raw.registry.username,
        namespace: raw.registry.namespace ?? STACK_DEFAULTS.registryNamespace,
    };
    const stackRoot = raw.videoStorageRoot ?? STACK_DEFAULTS.videoStorageRoot;
    const images = imagesOf(raw, registry);
    const wt = raw.watchtower ?? {};
    return {
        hardwareClass: raw.hardwareClass,
        profile: HARDWARE_PROFILES[raw.hardwareClass],
        registry,
        devices: raw.devices.map((d) => buildDevice(raw, d, stackRoot, images)),
        logging: {
            maxSizeMiB: raw.logging?.maxSizeMiB ?? STACK_DEFAULTS.logging.maxSizeMiB,
            maxFiles: raw.logging?.maxFiles ?? STACK_DEFAULTS.logging.maxFiles,
        },
        watchtower: {
            intervalSeconds: wt.intervalSeconds ?? STACK_DEFAULTS.watchtower.intervalSeconds,
            cleanup: wt.cleanup ?? STACK_DEFAULTS.watchtower.cleanup,
            includeStopped: wt.includeStopped ?? STACK_DEFAULTS.watchtower.includeStopped,
            monitorOnly: wt.monitorOnly ?? STACK_DEFAULTS.watchtower.monitorOnly,
            services: wt.services ?? STACK_DEFAULTS.watchtower.services,
        },
        selfMonitor: {
            intervalSeconds: raw.selfMonitor?.intervalSeconds ?? STACK_DEFAULTS.selfMonitor.intervalSeconds,
            maxRestarts: raw.selfMonitor?.maxRestarts ?? STACK_DEFAULTS.selfMonitor.maxRestarts,
            restartWindowSeconds: raw.selfMonitor?.restartWindowSeconds ?? STACK_DEFAULTS.selfMonitor.restartWindowSeconds,
        },
        orchestrator: { intervalSeconds: raw.orchestrator?.intervalSeconds ?? STACK_DEFAULTS.orchestrator.intervalSeconds },
        stopGraceSeconds: raw.stopGraceSeconds ?? STACK_DEFAULTS.stopGraceSeconds,
        rollout: resolveRolloutStrategy(raw.rollout),
        shards: raw.shards ?? STACK_DEFAULTS.shards,
    };
}

function buildDevice(raw: RawFleet, d: RawDevice, stackRoot: string, images: ReadonlyMap<ServiceName, ImageRef>): DeviceConfig {
    const root = d.videoStorageRoot ?? stackRoot;
    const deviceOverrides = d.services ?? {};

    const services: ServiceSettings[] = [];
    for (const name of SERVICE_NAMES) {
        const defaults = SERVICE_DEFAULTS[name];
        const stackO: RawServiceOverride = raw.services?.[name] ?? {};
        const devO: RawServiceOverride = deviceOverrides[name] ?? {};
        const enabled = devO.enabled ?? stackO.enabled ?? !defaults.optional;
        if (!enabled) continue;
        const image = images.get(name);
        if (!image) continue; // an optional service enabled nowhere; fleetChecks.ts reports a missing tag of an enabled one
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
            ...(defaults.healthcheck ? { healthcheck: fastStart({ ...defaults.healthcheck, ...stackO.healthcheck, ...devO.healthcheck }, raw.healthcheckStartIntervalSeconds) } : {}),
            publishAddress: devO.publishAddress ?? stackO.publishAddress ?? defaults.publishAddress,
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

function imagesOf(raw: RawFleet, registry: FleetConfig["registry"]): Map<ServiceName, ImageRef> {
    const out = new Map<ServiceName, ImageRef>();
    for (const name of SERVICE_NAMES) {
        const r = raw.release.services?.[name] ?? {};
        const repository = r.repository ?? `${registry.server}/${registry.namespace}/${name}`;
        const tag = r.tag ?? raw.release.tag;
        if (tag === undefined && r.digest === undefined) continue;
        out.set(name, { repository, ...(tag !== undefined ? { tag } : {}), ...(r.digest !== undefined ? { digest: r.digest } : {}) });
    }
    return out;
}

function stringify(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
    return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}

/**
 * `healthcheckStartIntervalSeconds`: every check that sets no start interval
 * of its own gets this one, with a start period of at least one interval, so
 * that the fast checks cover the time until the first regular check would
 * have run anyway (a seed check with no start period would otherwise never
 * use them). The steady-state interval stays as it is.
 */
function fastStart(hc: HealthcheckDefaults, startIntervalSeconds: number | undefined): HealthcheckDefaults {
    if (startIntervalSeconds === undefined || hc.startIntervalSeconds !== undefined) return hc;
    return { ...hc, startIntervalSeconds, startPeriodSeconds: Math.max(hc.startPeriodSeconds, hc.intervalSeconds) };
}
