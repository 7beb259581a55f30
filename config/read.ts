/**
 * The only place that reads Pulumi configuration. It hands parse.ts plain
 * values plus the set of keys Pulumi stores as secrets, and hands the
 * components the secrets themselves as secret Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { bareKey } from "./keys";
import { FleetConfig, RawConfig } from "./model";
import { parseFleetConfig } from "./parse";

// Exported by the SDK's runtime but absent from its typings.
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;

export interface FleetSecrets {
    readonly sshPrivateKey: pulumi.Output<string>;
    readonly registryToken: pulumi.Output<string>;
}

export function readRawConfig(project: string = pulumi.getProject()): RawConfig {
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [fullKey, value] of Object.entries(runtimeConfig.allConfig())) {
        const key = bareKey(fullKey, project);
        if (key === undefined) continue;
        values[key] = decode(value);
        if (isConfigSecret(fullKey)) secretKeys.add(key);
    }
    return { values, secretKeys };
}

/** Structured values arrive as JSON text; scalars as plain strings. */
function decode(value: string): unknown {
    const t = value.trim();
    if (t.startsWith("{") || t.startsWith("[") || /^-?\d+(\.\d+)?$/.test(t) || t === "true" || t === "false") {
        try {
            return JSON.parse(t);
        } catch {
            return value;
        }
    }
    return value;
}

/** Parses and validates the stack before any resource is registered; throws ConfigError. */
export function loadFleet(): { fleet: FleetConfig; secrets: FleetSecrets } {
    const fleet = parseFleetConfig(readRawConfig());
    const cfg = new pulumi.Config();
    return {
        fleet,
        secrets: { sshPrivateKey: cfg.requireSecret("sshPrivateKey"), registryToken: cfg.requireSecret("registryToken") },
    };
}
