/**
 * The shape of a stack's configuration, as zod schemas. Pure: nothing here
 * touches Pulumi or a device. Semantic checks that need several fields at
 * once (limits against the hardware class, duplicate names) live in checks.ts
 * and fleetChecks.ts. Error messages list the allowed fields from these shapes.
 */
import { isIP, isIPv6 } from "node:net";
import { z } from "zod";
import { HARDWARE_CLASSES, MAX_SHARDS, SERVICE_NAMES } from "./defaults";
import { rolloutSchema } from "./rolloutStrategy";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/** What is wrong with a device's address, if anything: one message, the most specific. */
export function hostProblem(h: string): string | undefined {
    if (h.startsWith("[") && h.endsWith("]") && isIPv6(h.slice(1, -1))) {
        return `must be written without brackets: ${h.slice(1, -1)} (an IPv6 address; the SSH port has its own field, port)`;
    }
    if (h.includes(":")) return isIPv6(h) ? undefined : "must be a host name, an IPv4 address or an IPv6 address (without brackets)";
    // ssh's resolver reads a name whose last part is a number as an IPv4
    // address (10.1.1 is 10.1.0.1, 0x7f.1 is 127.0.0.1, 010 is octal), so
    // `999.1.1.1` is no host name: such a name must be a plain dotted quad.
    if (/(^|\.)(\d+|0x[0-9a-f]*)$/i.test(h)) return IPV4.test(h) ? undefined : "must be a valid IPv4 address (four numbers 0-255, no leading zeros)";
    return HOSTNAME.test(h) ? undefined : "must be a host name, an IPv4 address or an IPv6 address (without brackets)";
}

/** `ssh-keyscan` output without the host name: the key type and base64 body. */
export const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}$/;
/** A registry host, optionally with a port: `ghcr.io`, `registry.local:5000`, `10.0.0.1:5000`. */
export const REGISTRY_SERVER = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;
/** Repository path components as the distribution spec allows them. */
export const REPOSITORY_PATH = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Compose-style memory with a unit: `512m`, `2g`, `1.5g`. */
export const MEMORY_WITH_UNIT = /^(\d+(\.\d+)?)\s*([bkmg])b?$/i;

/** Top-level keys outside fleetSchema: read as secrets, never as structured config. */
export const SECRET_KEYS = ["sshPrivateKey", "registryToken"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
/** Top-level secrets a stack may leave out; checked in serviceSecrets.ts. */
export const OPTIONAL_SECRET_KEYS = ["serviceSecrets"] as const;

/**
 * A field accepted only so that checks.ts can refuse credentials in it with a
 * pointer to the secret to set instead; never listed among the allowed fields.
 */
const credentialField = () => z.unknown().optional().meta({ credential: true });

export function isCredentialField(schema: z.ZodType): boolean {
    return schema.meta()?.credential === true;
}

const serviceName = z.enum(SERVICE_NAMES, {
    error: (issue) => `unknown service ${JSON.stringify(issue.input)}; allowed: ${SERVICE_NAMES.join(", ")}`,
});

const envValue = z.union([z.string(), z.number(), z.boolean()], {
    error: "environment values must be strings, numbers or booleans",
});

export const environmentSchema = z.record(
    z.string().regex(ENV_NAME, "environment variable names must match [A-Za-z_][A-Za-z0-9_]*"),
    envValue,
);

const cpus = z.union([z.number(), z.string()], { error: "must be a number of CPUs such as 0.5 or 1.5" });

/** Timing of a service's healthcheck; the command itself is part of the image's contract and stays fixed. */
export const healthcheckOverrideSchema = z
    .object({
        intervalSeconds: z.number().int().min(1, "must be at least 1 second").max(3600, "must be at most 3600 seconds").optional(),
        timeoutSeconds: z.number().int().min(1, "must be at least 1 second").max(600, "must be at most 600 seconds").optional(),
        retries: z.number().int().min(1, "must be at least 1").max(100, "must be at most 100").optional(),
        startPeriodSeconds: z.number().int().min(0, "must not be negative").max(3600, "must be at most 3600 seconds").optional(),
        // Docker Engine 25+ (API 1.44): checks this often during the start period.
        startIntervalSeconds: z.number().int().min(1, "must be at least 1 second").max(3600, "must be at most 3600 seconds").optional(),
    })
    .strict();

/** What a stack or a device may change about one service. */
export const serviceOverrideSchema = z
    .object({
        enabled: z.boolean({ error: "must be true or false" }).optional(),
        memoryMiB: z.unknown().optional(),
        memory: z.unknown().optional(),
        cpus: cpus.optional(),
        environment: environmentSchema.optional(),
        healthcheck: healthcheckOverrideSchema.optional(),
        publishAddress: z
            .string({ error: "must be an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1" })
            .refine((a) => isIP(a) !== 0, { message: "must be an IPv4 or IPv6 address (without brackets) such as 127.0.0.1, 0.0.0.0 or ::1" })
            .optional(),
    })
    .strict();

const servicesOverrides = z.partialRecord(serviceName, serviceOverrideSchema);

const releaseImageSchema = z
    .object({
        repository: z.string().optional(),
        tag: z.string().optional(),
        digest: z.string().optional(),
    })
    .strict();

export const deviceSchema = z
    .object({
        name: z.string().regex(DNS_LABEL, "must be a lower-case DNS label: letters, digits and '-', at most 63 characters"),
        host: z.string().check((ctx) => {
            const message = hostProblem(ctx.value);
            if (message) ctx.issues.push({ code: "custom", message, input: ctx.value });
        }),
        port: z.number().int().min(1, "must be a TCP port, 1-65535").max(65535, "must be a TCP port, 1-65535").optional(),
        user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name").optional(),
        hostPublicKey: z
            .string()
            .regex(HOST_KEY, "must be the device's SSH host public key as `<type> <base64>` (ssh-keyscan output without the host name)"),
        videoStorageRoot: z.string().optional(),
        services: servicesOverrides.optional(),
        sshPrivateKey: credentialField(),
    })
    .strict();

export const fleetSchema = z
    .object({
        hardwareClass: z.enum(HARDWARE_CLASSES, {
            error: (issue) => `unknown hardware class ${JSON.stringify(issue.input)}; allowed: ${HARDWARE_CLASSES.join(", ")}`,
        }),
        devices: z.array(deviceSchema).min(1, "a stack needs at least one device"),
        videoStorageRoot: z.string().optional(),
        registry: z
            .object({
                server: z.string().regex(REGISTRY_SERVER, "must be a registry host such as ghcr.io or registry.local:5000").optional(),
                username: z.string().min(1, "must not be empty").regex(/^[^:\s]+$/, "must not contain ':' or white space (Docker joins it to the token with ':')"),
                namespace: z.string().regex(REPOSITORY_PATH, "must be a lower-case repository path such as my-org or my-org/team").optional(),
                token: credentialField(),
                password: credentialField(),
            })
            .strict(),
        release: z
            .object({
                tag: z.string().optional(),
                services: z.partialRecord(serviceName, releaseImageSchema).optional(),
            })
            .strict(),
        services: servicesOverrides.optional(),
        environment: environmentSchema.optional(),
        logging: z
            .object({
                maxSizeMiB: z.number().int().min(1).max(1024, "must be 1-1024 MiB").optional(),
                maxFiles: z.number().int().min(1).max(100, "must be 1-100").optional(),
            })
            .strict()
            .optional(),
        watchtower: z
            .object({
                intervalSeconds: z.number().int().min(30, "must be at least 30 seconds").max(86400, "must be at most 86400 seconds").optional(),
                cleanup: z.boolean().optional(),
                includeStopped: z.boolean().optional(),
                monitorOnly: z.boolean().optional(),
                services: z.array(serviceName).optional(),
            })
            .strict()
            .optional(),
        selfMonitor: z
            .object({
                intervalSeconds: z.number().int().min(5, "must be at least 5 seconds").max(3600, "must be at most 3600 seconds").optional(),
                maxRestarts: z.number().int("must be a whole number of restarts").min(1, "must be 1-100 restarts").max(100, "must be 1-100 restarts").optional(),
                restartWindowSeconds: z
                    .number()
                    .int("must be a whole number of seconds")
                    .min(60, "must be at least 60 seconds")
                    .max(604800, "must be at most 604800 seconds (7 days)")
                    .optional(),
            })
            .strict()
            .optional(),
        orchestrator: z
            .object({
                intervalSeconds: z.number().int().min(10, "must be at least 10 seconds").max(86400, "must be at most 86400 seconds").optional(),
            })
            .strict()
            .optional(),
        stopGraceSeconds: z.number().int().min(0).max(600, "must be 0-600 seconds").optional(),
        healthcheckStartIntervalSeconds: z.number().int().min(1, "must be at least 1 second").max(60, "must be at most 60 seconds").optional(),
        rollout: rolloutSchema.optional(),
        shards: z
            .number()
            .int("must be a whole number of stacks")
            .min(1, `must be 1-${MAX_SHARDS} stacks`)
            .max(MAX_SHARDS, `must be 1-${MAX_SHARDS} stacks`)
            .optional(),
    })
    .strict();

export type RawFleet = z.infer<typeof fleetSchema>;
export type RawDevice = z.infer<typeof deviceSchema>;
export type RawServiceOverride = z.infer<typeof serviceOverrideSchema>;
