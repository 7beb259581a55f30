/**
 * Resolves each enabled service of a device into a ContainerSpec: the exact
 * Docker settings the container gets. Pure, so every value the daemon will see
 * can be asserted in unit tests without Pulumi; the components only translate
 * a spec into provider arguments.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import {
    DOCKER_SOCKET,
    GpuMode,
    LinuxCapability,
    LABEL_PREFIX,
    NETWORK_NAMES,
    NetworkName,
    RestartPolicy,
    SERVICE_DEFAULTS,
    STACK_DEFAULTS,
    ServiceName,
} from "../config/defaults";
import { DeviceConfig, FleetConfig, ImageRef, ServiceSettings } from "../config/model";
import { SECRET_FILE_SUFFIX } from "../config/serviceSecrets";

export interface HealthcheckSpec {
    readonly test: readonly string[];
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly retries: number;
    readonly startPeriodSeconds: number;
    readonly startIntervalSeconds?: number;
}

export interface BindMountSpec {
    readonly hostPath: string;
    readonly containerPath: string;
    readonly readOnly: boolean;
}

export interface ContainerSpec {
    readonly service: ServiceName;
    /** Container name on the device; the seed's service name, as watchtower is scoped by name. */
    readonly containerName: string;
    readonly image: ImageRef;
    /** `repo:tag` or `repo@sha256:...`, what the device pulls. */
    readonly imageReference: string;
    readonly memoryMiB: number;
    readonly cpus: number;
    readonly restart: RestartPolicy;
    /** Only meaningful with `on-failure`; 0 otherwise. */
    readonly maxRetryCount: number;
    readonly healthcheck?: HealthcheckSpec;
    /** Seconds `pulumi up` waits for the container to turn healthy before failing. */
    readonly healthyWithinSeconds: number;
    readonly environment: Readonly<Record<string, string>>;
    readonly bindMounts: readonly BindMountSpec[];
    readonly namedVolumes: readonly { readonly volume: string; readonly containerPath: string }[];
    readonly networks: readonly { readonly network: NetworkName; readonly name: string; readonly aliases: readonly string[] }[];
    /** `address` is the device's address the port is bound on. */
    readonly ports: readonly { readonly internal: number; readonly external: number; readonly address: string }[];
    /** Enabled services that must be healthy first. */
    readonly dependsOn: readonly ServiceName[];
    readonly gpu: GpuMode;
    readonly labels: Readonly<Record<string, string>>;
    readonly logOptions: Readonly<Record<string, string>>;
    readonly securityOptions: readonly string[];
    readonly command: readonly string[];
    readonly stopGraceSeconds: number;
    /** Watchtower reads registry credentials from a file we upload, never from its environment. */
    readonly needsRegistryCredentials: boolean;
    /** Always ["ALL"]: what a service needs is added back by name. */
    readonly capDrop: readonly string[];
    readonly capAdd: readonly LinuxCapability[];
    readonly readOnlyRootFilesystem: boolean;
    readonly tmpfs: readonly TmpfsSpec[];
    /**
     * The container's pids limit. @pulumi/docker 5.2.0 has no input for it;
     * ServiceContainer passes it to our provider through a transform.
     */
    readonly pidsLimit: number;
    /** Secrets uploaded as files; the environment names each file in `<NAME>__FILE`. */
    readonly secretFiles: readonly SecretFileSpec[];
}

export interface TmpfsSpec {
    readonly containerPath: string;
    readonly sizeMiB: number;
    /** Docker's tmpfs options, as `docker inspect` reports them back. */
    readonly options: string;
}

export interface SecretFileSpec {
    readonly name: string;
    readonly containerPath: string;
    /** Only the owner (root) reads it. */
    readonly permissions: string;
}

export const WATCHTOWER_DOCKER_CONFIG_DIR = "/config";
/** Where a service's secrets are uploaded, one file per secret. */
export const SECRETS_DIR = "/run/secrets";

export function imageReference(image: ImageRef): string {
    return image.digest ? `${image.repository}@${image.digest}` : `${image.repository}:${image.tag}`;
}

/** The subdirectories of the storage root that some enabled service mounts. */
export function storageSubdirs(device: DeviceConfig): string[] {
    const dirs = new Set<string>();
    for (const s of device.services) for (const m of SERVICE_DEFAULTS[s.name].storageMounts) dirs.add(m.subdir);
    return [...dirs].sort();
}

/** Networks some enabled service joins, in a stable order. */
export function deviceNetworks(device: DeviceConfig): NetworkName[] {
    const used = new Set<NetworkName>();
    for (const s of device.services) for (const n of SERVICE_DEFAULTS[s.name].networks) used.add(n);
    return (Object.keys(NETWORK_NAMES) as NetworkName[]).filter((n) => used.has(n));
}

export function deviceVolumes(device: DeviceConfig): string[] {
    return device.services.flatMap((s) => SERVICE_DEFAULTS[s.name].namedVolumes.map((v) => v.volume)).sort();
}

export function planDevice(fleet: FleetConfig, device: DeviceConfig, stack: string): ContainerSpec[] {
    const enabled = new Set(device.services.map((s) => s.name));
    return device.services.map((s) => planService(fleet, device, s, stack, enabled));
}

function planService(fleet: FleetConfig, device: DeviceConfig, s: ServiceSettings, stack: string, enabled: ReadonlySet<ServiceName>): ContainerSpec {
    const d = SERVICE_DEFAULTS[s.name];
    const environment = environmentOf(fleet, s, stack);
    // Watchtower is scoped by container name on its command line.
    const command = s.name === "watchtower" ? fleet.watchtower.services.filter((n) => enabled.has(n)) : [...d.command];

    const bindMounts: BindMountSpec[] = d.storageMounts.map((m) => ({
        hostPath: path.posix.join(device.videoStorageRoot, m.subdir),
        containerPath: m.containerPath,
        readOnly: m.readOnly,
    }));
    if (d.mountsDockerSocket) bindMounts.push({ hostPath: DOCKER_SOCKET, containerPath: DOCKER_SOCKET, readOnly: false });

    // Readable by the image's own user (uploads take no owner; grafana runs as uid 472).
    const secretFiles: SecretFileSpec[] = (s.secretNames ?? []).map((name) => ({ name, containerPath: path.posix.join(SECRETS_DIR, name), permissions: "0444" }));
    for (const f of secretFiles) environment[`${f.name}${SECRET_FILE_SUFFIX}`] = f.containerPath;
    const needsRegistryCredentials = s.name === "watchtower";
    // The provider uploads files with `docker cp` to `/`, which Docker refuses
    // for a read-only root filesystem even when the target is a volume.
    const readOnlyRootFilesystem = d.readOnlyRootFilesystem && !needsRegistryCredentials && secretFiles.length === 0;

    const hc = s.healthcheck;
    const healthyWithinSeconds = hc ? hc.startPeriodSeconds + 2 * hc.intervalSeconds + hc.timeoutSeconds + 30 : 60;
    const watched = s.name !== "watchtower" && fleet.watchtower.services.includes(s.name) && enabled.has("watchtower");
    const imageRef = imageReference(s.image);
    const labels: Record<string, string> = {
        [`${LABEL_PREFIX}.stack`]: stack,
        [`${LABEL_PREFIX}.device`]: device.name,
        [`${LABEL_PREFIX}.service`]: s.name,
        [`${LABEL_PREFIX}.image`]: imageRef,
        "com.centurylinklabs.watchtower.enable": String(watched),
    };
    // The provider updates memory in place but not the swap limit that goes
    // with it, which Docker then refuses; a changed limit replaces the container.
    labels[`${LABEL_PREFIX}.limits`] = `memory=${s.memoryMiB}m cpus=${s.cpus}`;
    if (hc) {
        // Docker cannot change a healthcheck in place; the digest makes a changed
        // check replace the container, visibly, instead of being silently ignored.
        // The fields in a fixed order, so the digest does not depend on how the
        // settings were built (a rollback plans from settings read back from
        // the state, whose keys come back sorted).
        // startIntervalSeconds only when set: containers deployed before it existed keep their digest.
        const canonical = {
            test: hc.test,
            intervalSeconds: hc.intervalSeconds,
            timeoutSeconds: hc.timeoutSeconds,
            retries: hc.retries,
            startPeriodSeconds: hc.startPeriodSeconds,
            ...(hc.startIntervalSeconds !== undefined ? { startIntervalSeconds: hc.startIntervalSeconds } : {}),
        };
        labels[`${LABEL_PREFIX}.healthcheck`] = createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 12);
    }

    return {
        service: s.name,
        containerName: s.name,
        image: s.image,
        imageReference: imageRef,
        memoryMiB: s.memoryMiB,
        cpus: s.cpus,
        restart: d.restart,
        maxRetryCount: d.restart === "on-failure" ? d.maxRetryCount : 0,
        ...(hc ? { healthcheck: { ...hc, test: [...hc.test] } } : {}),
        healthyWithinSeconds,
        environment: sortKeys(environment),
        bindMounts,
        namedVolumes: d.namedVolumes.map((v) => ({ ...v })),
        networks: d.networks.map((n) => ({ network: n, name: NETWORK_NAMES[n], aliases: aliasesOf(s.name) })),
        ports: d.ports.map((p) => ({ ...p, address: s.publishAddress ?? d.publishAddress })),
        dependsOn: d.dependsOn.filter((n) => enabled.has(n)),
        gpu: d.usesGpu ? fleet.profile.gpu : "none",
        labels: sortKeys(labels),
        logOptions: { "max-size": `${fleet.logging.maxSizeMiB}m`, "max-file": String(fleet.logging.maxFiles) },
        securityOptions: ["no-new-privileges:true"],
        command,
        stopGraceSeconds: fleet.stopGraceSeconds,
        needsRegistryCredentials,
        capDrop: ["ALL"],
        capAdd: [...d.capAdd],
        readOnlyRootFilesystem,
        // Scratch only makes sense where the root filesystem cannot take it.
        tmpfs: readOnlyRootFilesystem ? d.tmpfs.map((t) => ({ ...t, options: `rw,noexec,nosuid,nodev,size=${t.sizeMiB}m` })) : [],
        pidsLimit: d.pidsLimit,
        secretFiles,
    };
}

/**
 * The service's environment from the stack file plus what follows from other
 * settings. Precedence differs on purpose: watchtower's scope and the
 * self-monitor's stack cannot be overridden (they bound what a container with
 * the Docker socket may touch), an environment set for the orchestrator
 * itself wins over its interval, and the GPU variables are only defaults.
 */
function environmentOf(fleet: FleetConfig, s: ServiceSettings, stack: string): Record<string, string> {
    switch (s.name) {
        case "orchestrator":
            return { ...s.environment, ORCHESTRATOR_INTERVAL: String(fleet.orchestrator.intervalSeconds), ...s.serviceEnvironment };
        case "watchtower":
            return {
                DOCKER_API_VERSION: STACK_DEFAULTS.watchtower.dockerApiVersion,
                ...s.environment,
                WATCHTOWER_POLL_INTERVAL: String(fleet.watchtower.intervalSeconds),
                WATCHTOWER_CLEANUP: String(fleet.watchtower.cleanup),
                WATCHTOWER_INCLUDE_STOPPED: String(fleet.watchtower.includeStopped),
                WATCHTOWER_MONITOR_ONLY: String(fleet.watchtower.monitorOnly),
                // Both scopes at once: only containers that are named on the
                // command line AND carry the enable label, so a stray container is never touched.
                WATCHTOWER_LABEL_ENABLE: "true",
                DOCKER_CONFIG: WATCHTOWER_DOCKER_CONFIG_DIR,
            };
        case "self_monitor":
            return {
                ...s.environment,
                SELF_MONITOR_STACK: stack,
                SELF_MONITOR_INTERVAL_SECONDS: String(fleet.selfMonitor.intervalSeconds),
                SELF_MONITOR_MAX_RESTARTS: String(fleet.selfMonitor.maxRestarts),
                SELF_MONITOR_RESTART_WINDOW_SECONDS: String(fleet.selfMonitor.restartWindowSeconds),
            };
        case "scene_summarizer":
            if (fleet.profile.gpu === "none") return { ...s.environment };
            return { NVIDIA_VISIBLE_DEVICES: "all", NVIDIA_DRIVER_CAPABILITIES: "compute,utility,video", ...s.environment };
        default:
            return { ...s.environment };
    }
}

/** Under compose, services reach each other by service name; hyphenated too, since `_` is not valid in DNS host names. */
function aliasesOf(name: string): string[] {
    const hyphen = name.replace(/_/g, "-");
    return hyphen === name ? [name] : [name, hyphen];
}

function sortKeys(o: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
