/**
 * Every default of the stack lives here, and the README's reference table is
 * written from these values. Change a default here, nowhere else; the
 * services' own defaults are in serviceDefaults.ts, re-exported here.
 */
export * from "./serviceDefaults";
import { ServiceName } from "./serviceDefaults";

export const HARDWARE_CLASSES = ["jetson", "x86", "cpu"] as const;
export type HardwareClass = (typeof HARDWARE_CLASSES)[number];

/** How a hardware class exposes its GPU to a container. */
export type GpuMode = "nvidia-runtime" | "device-request" | "none";

export interface HardwareProfile {
    readonly description: string;
    /** Upper bound for any one container's `cpus`; Docker refuses more than the host has. */
    readonly maxCpus: number;
    /** Upper bound for any one container's memory; guards against typos such as 20000 for 2000. */
    readonly maxMemoryMiB: number;
    readonly gpu: GpuMode;
}

export const HARDWARE_PROFILES: Readonly<Record<HardwareClass, HardwareProfile>> = {
    // Jetson Orin NX / AGX: up to 12 Arm cores and 8-64 GiB shared CPU/GPU memory.
    // The GPU is reached through the NVIDIA container runtime, not device requests.
    jetson: { description: "NVIDIA Jetson (L4T, nvidia container runtime)", maxCpus: 12, maxMemoryMiB: 32768, gpu: "nvidia-runtime" },
    // Small-form-factor x86 boxes with a discrete NVIDIA GPU (NVIDIA container toolkit).
    x86: { description: "x86_64 edge server with NVIDIA GPU (--gpus)", maxCpus: 16, maxMemoryMiB: 65536, gpu: "device-request" },
    // CPU-only boxes, and the simulated device of the `local` stack: 2 cores.
    cpu: { description: "CPU-only device (no GPU), also the local simulated device", maxCpus: 2, maxMemoryMiB: 16384, gpu: "none" },
};


/** Stack-wide settings that apply unless a stack file says otherwise. */
export const STACK_DEFAULTS = {
    videoStorageRoot: "/srv/vv-video",
    registryServer: "ghcr.io",
    registryNamespace: "vv-video-ai",
    sshPort: 22,
    sshUser: "edge",
    environment: { LOG_LEVEL: "INFO", TZ: "UTC" } as Readonly<Record<string, string>>,
    logging: { maxSizeMiB: 10, maxFiles: 3 },
    watchtower: {
        intervalSeconds: 300,
        cleanup: true,
        includeStopped: true,
        // Pulumi is the release authority: by default watchtower reports newer
        // images for the tags it watches instead of swapping containers behind
        // the stack's back (see README, "Watchtower").
        monitorOnly: true,
        // The seed scopes watchtower to these containers.
        services: ["agent_dvr", "scene_scanner", "scene_summarizer"] as readonly ServiceName[],
        // The Docker API version watchtower's client speaks (DOCKER_API_VERSION).
        // Its own default, 1.25, is refused by Engine 29 and later (they
        // accept 1.40 and up); 1.40 is served by every engine from 19.03 on,
        // Debian 12's 20.10 included. `services.watchtower.environment` overrides it.
        dockerApiVersion: "1.40",
    },
    // At most maxRestarts restarts of one unhealthy container per window, then
    // it is left alone until the window has passed: a service that no restart
    // cures is a fault for a person, not a reason to churn the device.
    selfMonitor: { intervalSeconds: 30, maxRestarts: 3, restartWindowSeconds: 3600 },
    orchestrator: { intervalSeconds: 300 },
    /** Seconds Docker waits after SIGTERM before SIGKILL: workers flush partial scenes. */
    stopGraceSeconds: 30,
    /** One stack deploys every device; see plan/shards.ts for larger fleets. */
    shards: 1,
} as const;

/** The most shard stacks one fleet stack may be split into (`shards`). */
export const MAX_SHARDS = 1000;

/** The Docker socket on every device; mounted only where `mountsDockerSocket` is set. */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** Labels every managed container carries, so tools on the device can tell ours apart. */
export const LABEL_PREFIX = "edge-fleet";

/**
 * How a rollout moves a stack's devices to a new release when the stack file
 * does not say (`rollout:`); README "Rollouts" documents each.
 */
export const ROLLOUT_DEFAULTS = {
    /** Devices deployed and gated first, alone. */
    canary: 1,
    /** Each wave after the canary is this many times the previous one (Greengrass-style exponential rate). */
    waveGrowthFactor: 2,
    /** Devices deployed at once within a wave (one `pulumi up` targets this many). */
    parallelDevices: 4,
    /** Once every container is healthy, how long none may turn unhealthy or restart. */
    soakSeconds: 60,
    /** Failed devices tolerated before the rollout aborts: any failure aborts. */
    maxFailed: 0,
    /** The abort threshold applies once this many devices have been attempted. */
    abortMinDevices: 1,
    /** An unreachable device is left pending (caught up by the next run), not failed. */
    unreachableIsFailure: false,
    onFailure: "rollback",
} as const;
