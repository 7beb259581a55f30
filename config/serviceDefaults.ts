/**
 * The services and what each gets by default: limits, healthcheck, restart
 * policy, mounts, networks, ports and least-privilege settings. Part of the
 * defaults (defaults.ts re-exports it); the README's service table is
 * written from these values.
 */
export const SERVICE_NAMES = [
    "agent_dvr",
    "scene_scanner",
    "scene_summarizer",
    "logline_writer",
    "playlist_manager",
    "tv_api",
    "watchtower",
    "orchestrator",
    "prometheus",
    "grafana",
    "self_monitor",
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export type RestartPolicy = "no" | "on-failure" | "always" | "unless-stopped";

export interface HealthcheckDefaults {
    readonly test: readonly string[];
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly retries: number;
    readonly startPeriodSeconds: number;
    /** Docker Engine 25+ only: how often to check during the start period; absent, every intervalSeconds. */
    readonly startIntervalSeconds?: number;
}

/** A subdirectory of the video storage root, bind-mounted into a service. */
export interface StorageMountDefaults {
    readonly subdir: string;
    readonly containerPath: string;
    readonly readOnly: boolean;
}

export interface NamedVolumeDefaults {
    readonly volume: string;
    readonly containerPath: string;
}

/** Bridge networks on each device; `control` isolates the two containers that hold the Docker socket. */
export type NetworkName = "backend" | "monitoring" | "control";

export const NETWORK_NAMES: Readonly<Record<NetworkName, string>> = {
    backend: "vv_backend",
    monitoring: "vv_monitoring",
    control: "vv_control",
};

export interface ServiceDefaults {
    readonly description: string;
    /** Deployed unless disabled; optional services are off unless the stack turns them on. */
    readonly optional: boolean;
    readonly memoryMiB: number;
    readonly cpus: number;
    readonly restart: RestartPolicy;
    /** Cap on restarts for `on-failure`; ignored by other policies. */
    readonly maxRetryCount: number;
    readonly healthcheck?: HealthcheckDefaults;
    readonly storageMounts: readonly StorageMountDefaults[];
    readonly namedVolumes: readonly NamedVolumeDefaults[];
    readonly networks: readonly NetworkName[];
    /** Host port -> container port published on the device. */
    readonly ports: readonly { readonly internal: number; readonly external: number }[];
    /**
     * Services that must be healthy before this one is created. Only where a
     * service cannot start without another: each edge adds the other's time
     * to healthy to every cold deploy. The pipeline's services hand work on
     * through files in the storage root and wait for it themselves, so they
     * start together, as the seed's compose file starts them (it has no
     * depends_on); only the optional services keep an order.
     */
    readonly dependsOn: readonly ServiceName[];
    readonly usesGpu: boolean;
    /** Only watchtower and the self-monitor drive the Docker API. */
    readonly mountsDockerSocket: boolean;
    /** Arguments after the image's entrypoint; empty keeps the image's own. */
    readonly command: readonly string[];
    /** Address the published ports bind to on the device; a stack or device may override it. */
    readonly publishAddress: string;
    /**
     * Linux capabilities added back after dropping all of them; README
     * "Least privilege" gives the reason for each.
     */
    readonly capAdd: readonly LinuxCapability[];
    /** Whether the image's root filesystem is mounted read-only. */
    readonly readOnlyRootFilesystem: boolean;
    /** Writable scratch for a read-only service, in memory and bounded. */
    readonly tmpfs: readonly TmpfsDefaults[];
    /** Most processes and threads the container may hold at once (a fork bomb stops there). */
    readonly pidsLimit: number;
}

/** Capabilities as Docker reports them in `docker inspect` (HostConfig.CapAdd). */
export type LinuxCapability = "CAP_CHOWN" | "CAP_DAC_OVERRIDE" | "CAP_FOWNER" | "CAP_SETGID" | "CAP_SETUID" | "CAP_NET_BIND_SERVICE" | "CAP_KILL";

export interface TmpfsDefaults {
    readonly containerPath: string;
    readonly sizeMiB: number;
}

// Workers write a heartbeat file; the seed's check for playlist_manager (file touched in the
// last 5 minutes) is reused with a tighter window for services that beat more often.
const heartbeat = (maxAgeMinutes: number, intervalSeconds: number, startPeriodSeconds = 0): HealthcheckDefaults => ({
    test: ["CMD", "find", "/app/heartbeat", "-mmin", `-${maxAgeMinutes}`],
    intervalSeconds,
    timeoutSeconds: 10,
    retries: 3,
    startPeriodSeconds,
});

const storage = (subdir: string, readOnly: boolean): StorageMountDefaults => ({ subdir, containerPath: `/app/${subdir}`, readOnly });

const base = {
    optional: false,
    maxRetryCount: 0,
    storageMounts: [],
    namedVolumes: [],
    networks: ["backend"],
    ports: [],
    dependsOn: [],
    usesGpu: false,
    mountsDockerSocket: false,
    command: [],
    // Only what a service must offer to other machines listens beyond the device itself.
    publishAddress: "127.0.0.1",
    capAdd: [],
    // The workers write /app/heartbeat, which the seed's healthcheck reads,
    // beside their code in /app: a tmpfs over /app would hide the code.
    readOnlyRootFilesystem: false,
    tmpfs: [],
    pidsLimit: 256,
} as const;

/** The scratch directory every read-only service gets (the stand-ins' fault switches live there too). */
const scratch: readonly TmpfsDefaults[] = [{ containerPath: "/tmp", sizeMiB: 16 }];

export const SERVICE_DEFAULTS: Readonly<Record<ServiceName, ServiceDefaults>> = {
    agent_dvr: {
        ...base,
        description: "Records camera streams into input/",
        memoryMiB: 512,
        cpus: 1.0,
        restart: "always",
        healthcheck: heartbeat(2, 30, 30),
        storageMounts: [storage("input", false)],
        // The real image starts as root, takes ownership of its media and
        // config directories, then runs as its own user.
        capAdd: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"],
        // Camera streams: one ffmpeg per camera, each with its threads.
        pidsLimit: 512,
    },
    scene_scanner: {
        ...base,
        description: "Cuts recordings into scenes (input/ -> processed/)",
        memoryMiB: 768,
        cpus: 1.0,
        restart: "on-failure",
        maxRetryCount: 5,
        healthcheck: heartbeat(5, 60, 30),
        storageMounts: [storage("input", true), storage("processed", false)],
    },
    scene_summarizer: {
        ...base,
        description: "Summarises scenes with the vision model (GPU)",
        // Section 4.2 of the blueprint: 2g and 1.5 CPUs.
        memoryMiB: 2048,
        cpus: 1.5,
        restart: "on-failure",
        maxRetryCount: 5,
        healthcheck: heartbeat(5, 60, 60),
        storageMounts: [storage("processed", true), storage("summaries", false)],
        usesGpu: true,
    },
    logline_writer: {
        ...base,
        description: "Writes loglines from summaries",
        memoryMiB: 256,
        cpus: 0.5,
        restart: "on-failure",
        maxRetryCount: 5,
        healthcheck: heartbeat(5, 30, 30),
        storageMounts: [storage("summaries", true), storage("loglines", false)],
    },
    playlist_manager: {
        ...base,
        description: "Builds playlists from loglines",
        memoryMiB: 256,
        cpus: 0.5,
        restart: "on-failure",
        maxRetryCount: 5,
        // Exactly as section 4.3 gives it.
        healthcheck: { test: ["CMD", "find", "/app/heartbeat", "-mmin", "-5"], intervalSeconds: 120, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 0 },
        storageMounts: [storage("loglines", true), storage("playlists", false)],
    },
    tv_api: {
        ...base,
        description: "FastAPI for the TV front end",
        memoryMiB: 512,
        cpus: 1.0,
        restart: "always",
        // Exactly as section 4.3 gives it.
        healthcheck: { test: ["CMD", "curl", "-f", "http://localhost:8000/status"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 60 },
        storageMounts: [storage("playlists", true)],
        ports: [{ internal: 8000, external: 8000 }],
        // The seed's TV clients reach it over the network.
        publishAddress: "0.0.0.0",
        readOnlyRootFilesystem: true,
        tmpfs: scratch,
    },
    watchtower: {
        ...base,
        description: "Checks the registry for newer images of the services it is scoped to",
        memoryMiB: 128,
        cpus: 0.25,
        restart: "unless-stopped",
        healthcheck: { test: ["CMD", "/watchtower", "--health-check"], intervalSeconds: 60, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 10 },
        networks: ["control"],
        mountsDockerSocket: true,
        // Talks only to the Docker socket, as root; its registry login is an
        // uploaded file, which Docker refuses into a read-only root filesystem.
        pidsLimit: 64,
    },
    orchestrator: {
        ...base,
        description: "Schedules pipeline runs (optional long-running form of orchestrator.py)",
        optional: true,
        memoryMiB: 256,
        cpus: 0.5,
        restart: "unless-stopped",
        healthcheck: heartbeat(5, 60, 30),
        storageMounts: [storage("input", true), storage("processed", true)],
        dependsOn: ["scene_scanner", "scene_summarizer", "logline_writer"],
    },
    prometheus: {
        ...base,
        description: "Metrics store (optional)",
        optional: true,
        memoryMiB: 512,
        cpus: 0.5,
        restart: "unless-stopped",
        healthcheck: { test: ["CMD", "wget", "-q", "--spider", "http://localhost:9090/-/healthy"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30 },
        namedVolumes: [{ volume: "prometheus_data", containerPath: "/prometheus" }],
        networks: ["backend", "monitoring"],
        // Writes only its volume.
        readOnlyRootFilesystem: true,
        tmpfs: scratch,
    },
    grafana: {
        ...base,
        description: "Dashboards (optional)",
        optional: true,
        memoryMiB: 256,
        cpus: 0.5,
        restart: "unless-stopped",
        healthcheck: { test: ["CMD", "wget", "-q", "--spider", "http://localhost:3000/api/health"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30 },
        namedVolumes: [{ volume: "grafana_data", containerPath: "/var/lib/grafana" }],
        networks: ["monitoring"],
        ports: [{ internal: 3000, external: 3000 }],
        dependsOn: ["prometheus"],
        // Writes its volume and /tmp; given secrets, it keeps a writable root
        // filesystem (they are uploaded files).
        readOnlyRootFilesystem: true,
        tmpfs: scratch,
    },
    self_monitor: {
        ...base,
        description: "Restarts containers of this stack that Docker reports unhealthy",
        memoryMiB: 64,
        cpus: 0.1,
        restart: "unless-stopped",
        healthcheck: { test: ["CMD", "/self-monitor", "-healthcheck"], intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10 },
        networks: ["control"],
        mountsDockerSocket: true,
        readOnlyRootFilesystem: true,
        tmpfs: scratch,
        pidsLimit: 64,
    },
};
