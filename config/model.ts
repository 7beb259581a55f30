/**
 * The validated, fully defaulted description of a fleet that the planner and
 * the components work from. Types only: parse.ts produces these values, and
 * nothing here depends on how they were read or checked.
 */
import type { RolloutStrategy } from "./rolloutStrategy";
import { HardwareClass, HardwareProfile, HealthcheckDefaults, ServiceName } from "./defaults";

/** A stack's configuration as Pulumi hands it over, before any validation. */
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
    /**
     * Only what the stack file and the defaults give: the stack's defaults and
     * environment, then the stack's and the device's override of this
     * service, later ones winning. What the planner derives
     * from other settings is added in plan/.
     */
    readonly environment: Readonly<Record<string, string>>;
    /** The part of `environment` set in the stack's and the device's override of this service. */
    readonly serviceEnvironment: Readonly<Record<string, string>>;
    readonly image: ImageRef;
    /** The service's default check with the stack's, then the device's timing overrides. */
    readonly healthcheck?: HealthcheckDefaults;
    /**
     * Where its ports are published; absent in settings recorded before it
     * existed, which then get the service's default.
     */
    readonly publishAddress?: string;
    /** Names of the secrets it receives as files (values stay in Pulumi secrets, never here). */
    readonly secretNames?: readonly string[];
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
    readonly selfMonitor: { readonly intervalSeconds: number; readonly maxRestarts: number; readonly restartWindowSeconds: number };
    readonly orchestrator: { readonly intervalSeconds: number };
    readonly stopGraceSeconds: number;
    /** How `edge-fleet rollout` moves the fleet; the program itself does not use it. */
    readonly rollout: RolloutStrategy;
    /** Shard stacks the devices are split into (plan/shards.ts); 1: the stack deploys them all. */
    readonly shards: number;
}
