/**
 * Turns a stack's raw configuration into a validated, fully defaulted
 * FleetConfig, or throws one ConfigError listing every problem. Pure: the
 * caller hands in the values and which keys were stored as secrets.
 */
import * as path from "node:path";
import { z } from "zod";
import {
    HARDWARE_PROFILES,
    HealthcheckDefaults,
    HardwareClass,
    HardwareProfile,
    SERVICE_DEFAULTS,
    SERVICE_NAMES,
    STACK_DEFAULTS,
    ServiceName,
} from "./defaults";
import { RolloutStrategy, resolveRolloutStrategy, rolloutSchema } from "./rolloutStrategy";
import { ConfigError, ConfigProblem, pathToString, renderValue, valueAt } from "./errors";
import {
    IMAGE_DIGEST,
    IMAGE_TAG,
    MEMORY_WITH_UNIT,
    REGISTRY_SERVER,
    REPOSITORY_PATH,
    RawDevice,
    RawFleet,
    RawServiceOverride,
    fleetSchema,
} from "./schema";

/** Top-level keys that must be stored with `pulumi config set --secret`. */
export const SECRET_KEYS = ["sshPrivateKey", "registryToken"] as const;

export interface RawConfig {
    /** Config values of this project, keyed without the `project:` prefix. */
    readonly values: Readonly<Record<string, unknown>>;
    /** Which of those keys Pulumi holds as secrets. */
    readonly secretKeys: ReadonlySet<string>;
}

export interface ImageRef {
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

export interface ServiceSettings {
    readonly name: ServiceName;
    readonly memoryMiB: number;
    readonly cpus: number;
    /** Stack, then device, then service environment, later ones winning. */
    readonly environment: Readonly<Record<string, string>>;
    readonly image: ImageRef;
    /** The service's default check with the stack's, then the device's timing overrides. */
    readonly healthcheck?: HealthcheckDefaults;
}

export interface DeviceConfig {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly hostPublicKey: string;
    readonly videoStorageRoot: string;
    /** Enabled services only, in the order of SERVICE_NAMES. */
    readonly services: readonly ServiceSettings[];
}

export interface FleetConfig {
    readonly hardwareClass: HardwareClass;
    readonly profile: HardwareProfile;
    readonly registry: { readonly server: string; readonly username: string; readonly namespace: string };
    readonly devices: readonly DeviceConfig[];
    readonly logging: { readonly maxSizeMiB: number; readonly maxFiles: number };
    readonly watchtower: {
        readonly intervalSeconds: number;
        readonly cleanup: boolean;
        readonly includeStopped: boolean;
        readonly monitorOnly: boolean;
        readonly services: readonly ServiceName[];
    };
    readonly selfMonitor: { readonly intervalSeconds: number };
    readonly orchestrator: { readonly intervalSeconds: number };
    readonly stopGraceSeconds: number;
    /** How `edge-fleet rollout` moves the fleet; the program itself does not use it. */
    readonly rollout: RolloutStrategy;
}

const KNOWN_KEYS = [...Object.keys(fleetSchema.shape), ...SECRET_KEYS];

// Directories whose contents belong to the OS or to Docker itself: mounting
// them into containers, or creating service folders in them, is never intended.
const SYSTEM_DIRS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var/lib/docker", "/var/run"];
const SECRET_LOOKING_ENV = /(TOKEN|PASSWORD|PASSWD|SECRET|PRIVATE_KEY|API_KEY|CREDENTIAL)/i;

export function parseFleetConfig(raw: RawConfig): FleetConfig {
    const problems: ConfigProblem[] = [];
    const add = (p: readonly PropertyKey[] | string, message: string, value?: unknown, showValue = true) =>
        problems.push({
            path: typeof p === "string" ? p : pathToString(p),
            message,
            ...(showValue ? { value: renderValue(value) } : {}),
        });

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

type Add = (p: readonly PropertyKey[] | string, message: string, value?: unknown, showValue?: boolean) => void;

function checkSecrets(raw: RawConfig, add: Add): void {
    const hint: Record<(typeof SECRET_KEYS)[number], string> = {
        sshPrivateKey: "pulumi config set --secret sshPrivateKey < deploy_key",
        registryToken: "pulumi config set --secret registryToken <token>",
    };
    for (const key of SECRET_KEYS) {
        const value = raw.values[key];
        if (value === undefined || value === "") {
            add(key, `required; set it as a secret: \`${hint[key]}\``, undefined, false);
        } else if (!raw.secretKeys.has(key)) {
            // Never echo the value: it is exactly what must not be shown.
            add(key, `is stored in plain text in the stack file; remove it and set it as a secret: \`${hint[key]}\``, undefined, false);
        } else if (key === "sshPrivateKey" && typeof value === "string" && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) {
            add(key, "must be a PEM/OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)", undefined, false);
        }
    }
    // Structured config is stored as one blob: a secret nested in it would be
    // decrypted into plain objects, so credentials are only accepted at top level.
    const registry = raw.values.registry as Record<string, unknown> | undefined;
    for (const field of ["token", "password"]) {
        if (registry && typeof registry === "object" && registry[field] !== undefined) {
            add(`registry.${field}`, `credentials do not belong in the registry block; set them as a secret: \`${hint.registryToken}\``, undefined, false);
        }
    }
    const devices = raw.values.devices;
    if (Array.isArray(devices)) {
        devices.forEach((d, i) => {
            if (d && typeof d === "object" && (d as Record<string, unknown>).sshPrivateKey !== undefined) {
                add(`devices[${i}].sshPrivateKey`, `private keys do not belong in the device list; set the fleet's deploy key as a secret: \`${hint.sshPrivateKey}\``, undefined, false);
            }
        });
    }
}

function reportZodIssue(issue: z.core.$ZodIssue, input: unknown, add: Add): void {
    if (issue.code === "unrecognized_keys") {
        const parent = valueAt(input, issue.path);
        if (isServiceMap(issue.path)) {
            for (const key of issue.keys) add([...issue.path, key], `unknown service ${JSON.stringify(key)}; allowed: ${SERVICE_NAMES.join(", ")}`, undefined, false);
            return;
        }
        const allowed = allowedKeysAt(issue.path);
        for (const key of issue.keys) {
            add([...issue.path, key], `unknown field${allowed ? `; allowed: ${allowed.join(", ")}` : ""}`, (parent as Record<string, unknown>)[key]);
        }
        return;
    }
    if (issue.code === "invalid_key") {
        // Record keys: zod reports the key's own issue, which names the allowed values.
        const inner = issue.issues[0];
        add(issue.path, inner ? inner.message : issue.message, issue.path[issue.path.length - 1]);
        return;
    }
    const value = valueAt(input, issue.path);
    add(issue.path, value === undefined ? `required: ${issue.message}` : issue.message, value, value !== undefined);
}

/** `services`, `devices[i].services` and `release.services` are keyed by service name. */
function isServiceMap(p: readonly PropertyKey[]): boolean {
    const last = p[p.length - 1];
    return last === "services" && (p.length === 1 || (p[0] === "devices" && p.length === 3) || (p[0] === "release" && p.length === 2));
}

function allowedKeysAt(p: readonly PropertyKey[]): string[] | undefined {
    const names = p.filter((x) => typeof x === "string") as string[];
    const last = names[names.length - 1];
    const table: Record<string, string[]> = {
        "": Object.keys(fleetSchema.shape),
        devices: ["name", "host", "port", "user", "hostPublicKey", "videoStorageRoot", "services"],
        registry: ["server", "username", "namespace"],
        release: ["tag", "services"],
        logging: ["maxSizeMiB", "maxFiles"],
        watchtower: ["intervalSeconds", "cleanup", "includeStopped", "monitorOnly", "services"],
        selfMonitor: ["intervalSeconds"],
        orchestrator: ["intervalSeconds"],
        rollout: Object.keys(rolloutSchema.shape),
    };
    if (p.length === 0) return table[""];
    if (names[0] === "release" && names.length === 3) return ["repository", "tag", "digest"];
    if (last === "healthcheck") return ["intervalSeconds", "timeoutSeconds", "retries", "startPeriodSeconds"];
    if ((names[0] === "services" && names.length === 2) || (names[0] === "devices" && names.length === 3)) {
        return ["enabled", "memoryMiB", "memory", "cpus", "environment", "healthcheck"];
    }
    return table[last ?? ""];
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
    const seen = new Set<string>();
    return problems.filter((p) => {
        const key = `${p.path}\u0000${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

function buildFleet(raw: RawFleet, add: Add): FleetConfig {
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
        const endpoint = `${d.user ?? STACK_DEFAULTS.sshUser}@${d.host}:${d.port ?? STACK_DEFAULTS.sshPort}`;
        const prevEndpoint = endpoints.get(endpoint);
        if (prevEndpoint !== undefined) add(["devices", i, "host"], `devices[${prevEndpoint}] already deploys to ${endpoint}; one device, one entry`, d.host);
        else endpoints.set(endpoint, i);
        return buildDevice(raw, d, i, stackRoot, images, profile, add);
    });

    const wt = raw.watchtower ?? {};
    const watched = wt.services ?? STACK_DEFAULTS.watchtower.services;
    watched.forEach((svc, i) => {
        if (svc === "watchtower" || svc === "self_monitor") {
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
        selfMonitor: { intervalSeconds: raw.selfMonitor?.intervalSeconds ?? STACK_DEFAULTS.selfMonitor.intervalSeconds },
        orchestrator: { intervalSeconds: raw.orchestrator?.intervalSeconds ?? STACK_DEFAULTS.orchestrator.intervalSeconds },
        stopGraceSeconds: raw.stopGraceSeconds ?? STACK_DEFAULTS.stopGraceSeconds,
        rollout: resolveRolloutStrategy(raw.rollout, raw.devices.map((d) => d.name), add),
    };
}

function buildDevice(
    raw: RawFleet,
    d: RawDevice,
    i: number,
    stackRoot: string,
    images: ReadonlyMap<ServiceName, ImageRef>,
    profile: HardwareProfile,
    add: Add,
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
        const serviceEnv: Record<string, string> = { ...defaults.environment };
        if (name === "orchestrator") {
            serviceEnv.ORCHESTRATOR_INTERVAL = String(raw.orchestrator?.intervalSeconds ?? STACK_DEFAULTS.orchestrator.intervalSeconds);
        }
        services.push({
            name,
            memoryMiB: memoryOf(devO) ?? memoryOf(stackO) ?? defaults.memoryMiB,
            cpus: cpusOf(devO) ?? cpusOf(stackO) ?? defaults.cpus,
            environment: {
                ...STACK_DEFAULTS.environment,
                ...stringify(raw.environment),
                ...serviceEnv,
                ...stringify(stackO.environment),
                ...stringify(devO.environment),
            },
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

function resolveImages(raw: RawFleet, registry: FleetConfig["registry"], add: Add): Map<ServiceName, ImageRef> {
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

function isRepository(ref: string): boolean {
    if (ref.includes("@")) return false;
    const slash = ref.indexOf("/");
    if (slash > 0 && (ref.slice(0, slash).includes(".") || ref.slice(0, slash).includes(":") || ref.slice(0, slash) === "localhost")) {
        return REGISTRY_SERVER.test(ref.slice(0, slash)) && REPOSITORY_PATH.test(ref.slice(slash + 1));
    }
    return REPOSITORY_PATH.test(ref);
}

function checkStorageRoot(p: PropertyKey[], root: string, add: Add): void {
    if (!path.posix.isAbsolute(root)) {
        add(p, "must be an absolute path on the device, such as /srv/vv-video", root);
        return;
    }
    const normal = path.posix.normalize(root).replace(/\/+$/, "");
    if (normal === "" || root.split("/").includes("..") || normal !== root.replace(/\/+$/, "")) {
        add(p, `must be a normalised absolute path without '..' or '//' (did you mean ${JSON.stringify(normal || "/")}?)`, root);
        return;
    }
    const system = SYSTEM_DIRS.find((s) => normal === s || normal.startsWith(`${s}/`));
    if (system) add(p, `must not be inside ${system}, which belongs to the operating system or Docker`, root);
}

function checkEnvironment(p: PropertyKey[], env: Record<string, unknown> | undefined, add: Add): void {
    for (const key of Object.keys(env ?? {})) {
        if (SECRET_LOOKING_ENV.test(key)) {
            add([...p, key], "looks like a credential; environment in the stack file is plain text and visible in `docker inspect`", undefined, false);
        }
    }
}

function checkOverride(p: PropertyKey[], o: RawServiceOverride, profile: HardwareProfile, add: Add): void {
    checkEnvironment([...p, "environment"], o.environment, add);
    const hc = o.healthcheck;
    if (hc?.timeoutSeconds !== undefined && hc.intervalSeconds !== undefined && hc.timeoutSeconds > hc.intervalSeconds) {
        add([...p, "healthcheck", "timeoutSeconds"], `must not exceed intervalSeconds (${hc.intervalSeconds})`, hc.timeoutSeconds);
    }
    if (o.memoryMiB !== undefined && o.memory !== undefined) {
        add([...p, "memory"], "set either memoryMiB or memory, not both", o.memory);
    }
    if (o.memoryMiB !== undefined) {
        const m = o.memoryMiB;
        if (typeof m !== "number" || !Number.isInteger(m)) {
            add([...p, "memoryMiB"], "must be a whole number of MiB such as 512 (or use memory: \"512m\")", m);
        } else if (m < 6 || m > profile.maxMemoryMiB) {
            add([...p, "memoryMiB"], `must be between 6 (Docker's minimum) and ${profile.maxMemoryMiB} MiB for this hardware class`, m);
        }
    }
    if (o.memory !== undefined) {
        const mib = parseMemory(o.memory);
        if (mib === undefined) {
            add([...p, "memory"], "must be a size with a unit such as 512m or 2g (b, k, m, g)", o.memory);
        } else if (mib < 6 || mib > profile.maxMemoryMiB) {
            add([...p, "memory"], `must be between 6m and ${profile.maxMemoryMiB}m for this hardware class`, o.memory);
        } else if (!Number.isInteger(mib)) {
            add([...p, "memory"], "must be a whole number of MiB", o.memory);
        }
    }
    if (o.cpus !== undefined) {
        const c = cpusOf(o);
        if (c === undefined || !Number.isFinite(c)) {
            add([...p, "cpus"], "must be a number of CPUs such as 0.5 or 1.5", o.cpus);
        } else if (c <= 0 || c > profile.maxCpus) {
            add([...p, "cpus"], `must be more than 0 and at most ${profile.maxCpus}, the CPUs of this hardware class`, o.cpus);
        } else if (Math.abs(Math.round(c * 100) - c * 100) > 1e-9) {
            add([...p, "cpus"], "must be a multiple of 0.01", o.cpus);
        }
    }
}

/** MiB from a compose-style size; undefined when unit-less or malformed. */
export function parseMemory(value: unknown): number | undefined {
    if (typeof value !== "string") return undefined;
    const m = MEMORY_WITH_UNIT.exec(value.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = m[3]!.toLowerCase();
    const factor = { b: 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024 }[unit as "b" | "k" | "m" | "g"];
    return n * factor;
}

function memoryOf(o: RawServiceOverride): number | undefined {
    if (typeof o.memoryMiB === "number") return o.memoryMiB;
    return parseMemory(o.memory);
}

function cpusOf(o: RawServiceOverride): number | undefined {
    if (o.cpus === undefined) return undefined;
    if (typeof o.cpus === "number") return o.cpus;
    const trimmed = o.cpus.trim();
    return /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
}

function stringify(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
    return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}
