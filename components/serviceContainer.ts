import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ContainerSpec, WATCHTOWER_DOCKER_CONFIG_DIR } from "../plan/containerSpec";

export interface ServiceContainerArgs {
    readonly spec: ContainerSpec;
    readonly networks: Readonly<Record<string, docker.Network>>;
    readonly volumes: Readonly<Record<string, docker.Volume>>;
    /** Containers that must be healthy before this one is created. */
    readonly after: readonly pulumi.Resource[];
    /** Docker client config.json with registry auth; only for watchtower. */
    readonly registryConfigJson?: pulumi.Input<string>;
    /** This service's secrets by name (`serviceSecrets.<service>`); uploaded as the spec's secret files. */
    readonly secrets?: pulumi.Input<Readonly<Record<string, string>>>;
}

const seconds = (n: number) => `${n}s`;

const CONTAINER_TYPE = "docker:index/container:Container";

/**
 * Adds the container's pids limit to its registered inputs. Our docker
 * provider takes `pidsLimit` (its bridge adds it to the container), but the
 * @pulumi/docker 5.2.0 Container class copies only the inputs it knows into
 * the registration and would drop it. A transformation runs in the program
 * on what is registered; a `transforms` entry did the same through a callback
 * from the engine, one gRPC round trip per container (a sixth of the
 * program's CPU in a fleet preview).
 */
function withPidsLimit(limit: number): pulumi.ResourceTransformation {
    return (a) => (a.type === CONTAINER_TYPE ? { props: { ...a.props, pidsLimit: limit }, opts: a.opts } : undefined);
}

/** Never includes the value in the error: it is a secret. */
function secretValue(all: Readonly<Record<string, string>>, name: string, service: string): string {
    const v = all[name];
    if (v === undefined) throw new Error(`serviceSecrets.${service}.${name} is missing`);
    return String(v);
}

/**
 * One service on one device: the image pulled from the registry, then the
 * container with its limits, healthcheck, restart policy, mounts, networks and
 * log rotation exactly as its ContainerSpec says.
 */
export class ServiceContainer extends pulumi.ComponentResource {
    readonly image: docker.RemoteImage;
    readonly container: docker.Container;
    /** `repo@sha256:...` of what the device pulled. */
    readonly repoDigest: pulumi.Output<string>;

    constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("edge-fleet:device:ServiceContainer", name, {}, opts);
        const s = args.spec;
        this.image = new docker.RemoteImage(
            `${name}-image`,
            {
                name: s.imageReference,
                // Old images stay on the device: a rollback then needs no pull,
                // and removing a stack never breaks a container it does not own.
                keepLocally: true,
            },
            { parent: this },
        );
        this.repoDigest = this.image.repoDigest;

        const volumes: docker.types.input.ContainerVolume[] = [
            ...s.bindMounts.map((m) => ({ hostPath: m.hostPath, containerPath: m.containerPath, readOnly: m.readOnly })),
            ...s.namedVolumes.map((v) => ({ volumeName: args.volumes[v.volume]!.name, containerPath: v.containerPath })),
        ];
        const uploads: docker.types.input.ContainerUpload[] = [];
        if (s.needsRegistryCredentials && args.registryConfigJson !== undefined) {
            // A file inside the container, unlike REPO_PASS in its environment,
            // does not show in `docker inspect`.
            uploads.push({ file: `${WATCHTOWER_DOCKER_CONFIG_DIR}/config.json`, content: pulumi.secret(args.registryConfigJson), permissions: "0400" });
        }
        for (const f of s.secretFiles) {
            // Files, not environment: `docker inspect` shows the environment
            // but not the contents of a file inside the container.
            const content = pulumi.secret(pulumi.output(args.secrets ?? {}).apply((all) => secretValue(all, f.name, s.service)));
            uploads.push({ file: f.containerPath, content, permissions: f.permissions });
        }

        this.container = new docker.Container(
            name,
            {
                name: s.containerName,
                // The reference the stack asked for; RemoteImage above has
                // already pulled it, so the container starts from that image.
                image: this.image.name,
                memory: s.memoryMiB,
                // Without a swap limit equal to the memory limit, Docker lets a
                // container use as much swap again as its memory limit.
                memorySwap: s.memoryMiB,
                cpus: s.cpus.toString(),
                restart: s.restart,
                maxRetryCount: s.maxRetryCount,
                ...(s.healthcheck
                    ? {
                          healthcheck: {
                              tests: [...s.healthcheck.test],
                              interval: seconds(s.healthcheck.intervalSeconds),
                              timeout: seconds(s.healthcheck.timeoutSeconds),
                              retries: s.healthcheck.retries,
                              startPeriod: seconds(s.healthcheck.startPeriodSeconds),
                              ...(s.healthcheck.startIntervalSeconds !== undefined ? { startInterval: seconds(s.healthcheck.startIntervalSeconds) } : {}),
                          },
                          wait: true,
                          waitTimeout: s.healthyWithinSeconds,
                      }
                    : {}),
                envs: Object.entries(s.environment).map(([k, v]) => `${k}=${v}`),
                labels: Object.entries(s.labels).map(([label, value]) => ({ label, value })),
                volumes,
                uploads,
                // networkMode stays "bridge": the provider creates the container
                // there, then moves it to these networks with their aliases.
                networksAdvanced: s.networks.map((n) => ({ name: args.networks[n.network]!.name, aliases: [...n.aliases] })),
                ports: s.ports.map((p) => ({ internal: p.internal, external: p.external, ip: p.address, protocol: "tcp" })),
                // The provider replaces the container when any of these change
                // (they cannot change on an existing container), so a change shows in preview.
                capabilities: { drops: [...s.capDrop], ...(s.capAdd.length > 0 ? { adds: [...s.capAdd] } : {}) },
                readOnly: s.readOnlyRootFilesystem,
                tmpfs: Object.fromEntries(s.tmpfs.map((t) => [t.containerPath, t.options])),
                ...(s.gpu === "nvidia-runtime" ? { runtime: "nvidia" } : {}),
                ...(s.gpu === "device-request" ? { gpus: "all" } : {}),
                logDriver: "json-file",
                logOpts: { ...s.logOptions },
                securityOpts: [...s.securityOptions],
                privileged: false,
                ...(s.command.length > 0 ? { command: [...s.command] } : {}),
                destroyGraceSeconds: s.stopGraceSeconds,
                stopTimeout: s.stopGraceSeconds,
                // The name is fixed, so a replacement must remove the old container first.
                mustRun: true,
            },
            {
                parent: this,
                dependsOn: [this.image, ...args.after],
                deleteBeforeReplace: true,
                // A changed limit is applied to the running container, not by replacing it.
                transformations: [withPidsLimit(s.pidsLimit)],
            },
        );
        this.registerOutputs({ containerId: this.container.id, repoDigest: this.repoDigest });
    }
}
