/**
 * Secrets a service receives as files (`serviceSecrets`), and where a service
 * publishes its ports. Secrets are one top-level Pulumi secret: structured
 * config is stored as one blob, so a secret nested in `services` would turn
 * that whole block into a secret (or leave the value in clear). Pure: the
 * values only pass through here to be checked, and are never returned.
 */
import { SERVICE_DEFAULTS, SERVICE_NAMES, ServiceName } from "./defaults";
import { AddProblem } from "./errors";
import { FleetConfig, RawConfig } from "./model";
import { ENV_NAME, RawServiceOverride } from "./schema";

export const SERVICE_SECRETS_KEY = "serviceSecrets";
/** Suffix of the environment variable that names a secret's file (the convention grafana reads). */
export const SECRET_FILE_SUFFIX = "__FILE";
const HINT = "pulumi config set --secret --path 'serviceSecrets.<service>.<NAME>' <value>";

/**
 * The names of the secrets per service, checked: stored as a secret, known
 * services, names usable as environment variables, values non-empty text.
 * A problem names the field and what is allowed, never the value.
 */
export function serviceSecretNames(raw: RawConfig, add: AddProblem): Map<ServiceName, string[]> {
    const out = new Map<ServiceName, string[]>();
    const value = raw.values[SERVICE_SECRETS_KEY];
    if (value === undefined) return out;
    if (!raw.secretKeys.has(SERVICE_SECRETS_KEY)) {
        add(SERVICE_SECRETS_KEY, `is stored in plain text in the stack file; remove it and set each value as a secret: \`${HINT}\``, undefined, false);
        return out;
    }
    if (!isObject(value)) {
        add(SERVICE_SECRETS_KEY, `must map service names to { NAME: value }; set each with \`${HINT}\``, undefined, false);
        return out;
    }
    for (const [service, secrets] of Object.entries(value)) {
        const p = [SERVICE_SECRETS_KEY, service];
        if (!(SERVICE_NAMES as readonly string[]).includes(service)) {
            add(p, `unknown service; allowed: ${SERVICE_NAMES.join(", ")}`, undefined, false);
            continue;
        }
        if (!isObject(secrets)) {
            add(p, "must map secret names to values, such as GF_SECURITY_ADMIN_PASSWORD: <value>", undefined, false);
            continue;
        }
        const names: string[] = [];
        for (const [name, secret] of Object.entries(secrets)) {
            if (!ENV_NAME.test(name)) {
                add([...p, name], "secret names must match [A-Za-z_][A-Za-z0-9_]* (the service reads <NAME>__FILE)", undefined, false);
            } else if (name.endsWith(SECRET_FILE_SUFFIX)) {
                add([...p, name], `give the name without ${SECRET_FILE_SUFFIX}; the variable ${SECRET_FILE_SUFFIX} names the file`, undefined, false);
            } else if (!(typeof secret === "string" || typeof secret === "number") || String(secret) === "") {
                add([...p, name], "must be a non-empty text value", undefined, false);
            } else {
                names.push(name);
            }
        }
        out.set(service as ServiceName, names.sort());
    }
    return out;
}

/** The fleet with each service's secret names; refuses secrets for a service no device runs, or that its environment also sets. */
export function withSecretNames(fleet: FleetConfig, names: ReadonlyMap<ServiceName, readonly string[]>, add: AddProblem): FleetConfig {
    for (const [service, list] of names) {
        const runs = fleet.devices.flatMap((d) => d.services.filter((s) => s.name === service));
        if (runs.length === 0) {
            add([SERVICE_SECRETS_KEY, service], "service is not enabled on any device", undefined, false);
            continue;
        }
        for (const name of list) {
            for (const env of [name, `${name}${SECRET_FILE_SUFFIX}`]) {
                if (runs.some((s) => s.environment[env] !== undefined)) {
                    add([SERVICE_SECRETS_KEY, service, name], `the environment of ${service} also sets ${env}; remove it there`, undefined, false);
                }
            }
        }
    }
    if (names.size === 0) return fleet;
    return {
        ...fleet,
        devices: fleet.devices.map((d) => ({
            ...d,
            services: d.services.map((s) => (names.has(s.name) ? { ...s, secretNames: [...names.get(s.name)!] } : s)),
        })),
    };
}

/** A publish address only means something for a service that publishes ports. */
export function checkPublishAddress(p: readonly PropertyKey[], service: string, o: RawServiceOverride, add: AddProblem): void {
    if (o.publishAddress === undefined || !(SERVICE_NAMES as readonly string[]).includes(service)) return;
    if (SERVICE_DEFAULTS[service as ServiceName].ports.length === 0) {
        const publishing = SERVICE_NAMES.filter((n) => SERVICE_DEFAULTS[n].ports.length > 0).join(", ");
        add([...p, "publishAddress"], `${service} publishes no port; only ${publishing} do`, o.publishAddress);
    }
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
