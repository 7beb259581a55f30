/**
 * The docker-compose.yml that deploys what the Pulumi program deploys to one
 * device, for the bench. It goes through the program's own path, the stack
 * config file -> parseFleetConfig -> planDevice, and only the last step
 * differs: ContainerSpecs become compose services here instead of provider
 * arguments (components/serviceContainer.ts), setting by setting.
 *
 * The registry login watchtower reads is not in the file: compose copies it
 * into the container from the environment variable REGISTRY_CONFIG_ENV (a
 * Docker config.json), as the Pulumi program uploads it, so it never shows in
 * `docker inspect` or on disk.
 */
import * as fs from "node:fs";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { NETWORK_NAMES, NetworkName } from "../../config/defaults";
import { decodeConfigValue } from "../../config/keys";
import { parseFleetConfig } from "../../config/parse";
import { ContainerSpec, WATCHTOWER_DOCKER_CONFIG_DIR, deviceNetworks, deviceVolumes, planDevice } from "../../plan/containerSpec";

export const REGISTRY_CONFIG_ENV = "EDGE_FLEET_REGISTRY_CONFIG_JSON";
const REGISTRY_CONFIG = "registry_auth";
const PROJECT_PREFIX = "edge-fleet:";

/** A stack config file as `pulumi config` would hand it to the program. */
function readStackConfig(file: string): { values: Record<string, unknown>; secretKeys: Set<string> } {
    const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [fullKey, value] of Object.entries(doc.config ?? {})) {
        if (!fullKey.startsWith(PROJECT_PREFIX)) continue;
        const key = fullKey.slice(PROJECT_PREFIX.length);
        // Secrets stay encrypted: the plan never uses them, the parser only
        // checks that they are there and stored as secrets.
        if (value !== null && typeof value === "object" && "secure" in value) secretKeys.add(key);
        values[key] = decodeConfigValue(value);
    }
    return { values, secretKeys };
}

const seconds = (n: number) => `${n}s`;

function composeService(s: ContainerSpec): Record<string, unknown> {
    const svc: Record<string, unknown> = {
        image: s.imageReference,
        container_name: s.containerName,
        mem_limit: `${s.memoryMiB}m`,
        // As in the Pulumi program: no swap beyond the memory limit.
        memswap_limit: `${s.memoryMiB}m`,
        cpus: s.cpus,
        restart: s.restart === "on-failure" ? `on-failure:${s.maxRetryCount}` : s.restart,
        environment: { ...s.environment },
        labels: { ...s.labels },
        volumes: [
            ...s.bindMounts.map((m) => ({
                type: "bind",
                source: m.hostPath,
                target: m.containerPath,
                read_only: m.readOnly,
                // Docker creates a missing storage directory, as with the provider.
                bind: { create_host_path: true },
            })),
            ...s.namedVolumes.map((v) => ({ type: "volume", source: v.volume, target: v.containerPath })),
        ],
        networks: Object.fromEntries(s.networks.map((n) => [n.name, { aliases: [...n.aliases] }])),
        logging: { driver: "json-file", options: { ...s.logOptions } },
        security_opt: [...s.securityOptions],
        privileged: false,
        cap_drop: [...s.capDrop],
        ...(s.capAdd.length > 0 ? { cap_add: [...s.capAdd] } : {}),
        read_only: s.readOnlyRootFilesystem,
        // The same limit the program applies, so both deploys set up the same containers.
        pids_limit: s.pidsLimit,
        ...(s.tmpfs.length > 0 ? { tmpfs: s.tmpfs.map((t) => `${t.containerPath}:${t.options}`) } : {}),
        stop_grace_period: seconds(s.stopGraceSeconds),
    };
    if (s.healthcheck) {
        svc.healthcheck = {
            test: [...s.healthcheck.test],
            interval: seconds(s.healthcheck.intervalSeconds),
            timeout: seconds(s.healthcheck.timeoutSeconds),
            retries: s.healthcheck.retries,
            start_period: seconds(s.healthcheck.startPeriodSeconds),
            ...(s.healthcheck.startIntervalSeconds !== undefined ? { start_interval: seconds(s.healthcheck.startIntervalSeconds) } : {}),
        };
    }
    if (s.ports.length > 0) {
        svc.ports = s.ports.map((p) => ({ target: p.internal, published: String(p.external), host_ip: p.address, protocol: "tcp" }));
    }
    // The provider creates a container only once its dependencies are healthy.
    if (s.dependsOn.length > 0) svc.depends_on = Object.fromEntries(s.dependsOn.map((d) => [d, { condition: "service_healthy" }]));
    if (s.gpu === "nvidia-runtime") svc.runtime = "nvidia";
    if (s.gpu === "device-request") {
        svc.deploy = { resources: { reservations: { devices: [{ driver: "nvidia", count: "all", capabilities: ["gpu"] }] } } };
    }
    if (s.command.length > 0) svc.command = [...s.command];
    if (s.needsRegistryCredentials) {
        svc.configs = [{ source: REGISTRY_CONFIG, target: `${WATCHTOWER_DOCKER_CONFIG_DIR}/config.json`, mode: "0400" }];
    }
    return svc;
}

function composeProject(configFile: string, stack: string, deviceName: string, project: string): Record<string, unknown> {
    const fleet = parseFleetConfig(readStackConfig(configFile));
    const device = fleet.devices.find((d) => d.name === deviceName);
    if (!device) throw new Error(`${configFile} has no device ${deviceName}`);
    const specs = planDevice(fleet, device, stack);
    const doc: Record<string, unknown> = {
        name: project,
        services: Object.fromEntries(specs.map((s) => [s.service, composeService(s)])),
        // Fixed names, as the Pulumi program creates them (compose would prefix the project).
        networks: Object.fromEntries(
            deviceNetworks(device).map((n: NetworkName) => [NETWORK_NAMES[n], { name: NETWORK_NAMES[n], driver: "bridge", labels: { "edge-fleet.stack": stack } }]),
        ),
    };
    const volumes = deviceVolumes(device);
    if (volumes.length > 0) doc.volumes = Object.fromEntries(volumes.map((v) => [v, { name: v }]));
    if (specs.some((s) => s.needsRegistryCredentials)) doc.configs = { [REGISTRY_CONFIG]: { environment: REGISTRY_CONFIG_ENV } };
    return doc;
}

/** Writes the compose file for one device of a stack config file; returns the number of services. */
export function writeComposeFile(configFile: string, stack: string, deviceName: string, project: string, out: string): number {
    const doc = composeProject(configFile, stack, deviceName, project);
    const header = `# Generated by scripts/bench/compose-file.ts from the stack config (stack ${stack}, device ${deviceName}); do not edit.\n`;
    fs.writeFileSync(out, header + toYaml(doc, { lineWidth: 0 }));
    return Object.keys(doc.services as object).length;
}
