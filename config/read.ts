/**
 * The only place that reads Pulumi configuration. It hands parse.ts plain
 * values plus the set of keys Pulumi stores as secrets, and hands the
 * components the secrets themselves as secret Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import * as fs from "node:fs";
import { bareKey, decodeConfigValue } from "./keys";
import { FleetConfig, RawConfig } from "./model";
import { parseFleetConfig } from "./parse";
import { SERVICE_SECRETS_KEY } from "./serviceSecrets";

// Exported by the SDK's runtime but absent from its typings.
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;

export interface FleetSecrets {
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly registryToken: pulumi.Output<string>;
    /** `serviceSecrets`: per service, secret name to value; empty when the stack sets none. */
    readonly serviceSecrets: pulumi.Output<Readonly<Record<string, Readonly<Record<string, string>>>>>;
}

export function readRawConfig(project: string = pulumi.getProject()): RawConfig {
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [fullKey, value] of Object.entries(runtimeConfig.allConfig())) {
        const key = bareKey(fullKey, project);
        if (key === undefined) continue;
        values[key] = decodeConfigValue(value);
        if (isConfigSecret(fullKey)) secretKeys.add(key);
    }
    return { values, secretKeys };
}

/** Set by the rollout for the run of a rollback: the file of device pins (readRolloutPins). */
export const PINS_FILE_ENV = "EDGE_FLEET_PINS_FILE";
/** Set by the rollout for the run of a batch: devices the program leaves out (readLeftOutDevices). */
export const LEAVE_OUT_ENV = "EDGE_FLEET_LEAVE_OUT";

/**
 * Devices a rollback puts back on what they ran before: device name to the
 * snapshot recorded in the state (plan/deviceSnapshot.ts). Set only by
 * `edge-fleet rollout` for the run that rolls back, through a file named in
 * EDGE_FLEET_PINS_FILE; the stack file stays the declared target.
 */
export function readRolloutPins(): Readonly<Record<string, { fleet: FleetConfig }>> {
    const file = process.env[PINS_FILE_ENV];
    if (!file) return {};
    const pins = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, { fleet: FleetConfig }>;
    for (const [name, pin] of Object.entries(pins)) {
        if (pin?.fleet?.devices?.length !== 1 || pin.fleet.devices[0]!.name !== name) {
            throw new Error(`${file}: the pin of device ${name} must hold that one device`);
        }
    }
    return pins;
}

/**
 * Devices this run of the program leaves out: set only by `edge-fleet
 * rollout`, `preview` of a batch and `drift` (EDGE_FLEET_LEAVE_OUT, names
 * separated by commas), for devices outside the batch of which the state holds
 * nothing (rollout/deviceOps.ts batchScope says why). The list covers the
 * whole fleet; a shard stack's file declares its own devices only, so the
 * names it does not declare are another shard's and are ignored.
 */
export function readLeftOutDevices(declared: readonly string[]): ReadonlySet<string> {
    const names = (process.env[LEAVE_OUT_ENV] ?? "").split(",");
    return new Set(names.filter((n) => declared.includes(n)));
}

/** The environment that makes readLeftOutDevices return these names; nothing when there are none. */
export function leftOutEnv(leaveOut: readonly string[]): Record<string, string> {
    return leaveOut.length > 0 ? { [LEAVE_OUT_ENV]: leaveOut.join(",") } : {};
}

/** Parses and validates the stack before any resource is registered; throws ConfigError. */
export function loadFleet(): { fleet: FleetConfig; secrets: FleetSecrets } {
    const fleet = parseFleetConfig(readRawConfig());
    const cfg = new pulumi.Config();
    return {
        fleet,
        secrets: {
            sshPrivateKey: cfg.requireSecret("sshPrivateKey"),
            registryToken: cfg.requireSecret("registryToken"),
            serviceSecrets: cfg.getSecretObject<Record<string, Record<string, string>>>(SERVICE_SECRETS_KEY) ?? pulumi.secret<Record<string, Record<string, string>>>({}),
        },
    };
}
