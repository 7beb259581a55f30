import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { LABEL_PREFIX, NETWORK_NAMES, ServiceName } from "../config/defaults";
import { DeviceConfig, FleetConfig } from "../config/model";
import { deviceNetworks, deviceVolumes, planDevice } from "../plan/containerSpec";
import { orderByDependencies } from "../plan/order";
import { dockerConfigJson } from "../plan/registryAuth";
import { DeviceSnapshot, snapshotOf } from "../plan/deviceSnapshot";
import { DeviceConnection } from "./deviceConnection";
import { ServiceContainer } from "./serviceContainer";

export interface EdgeDeviceArgs {
    readonly stack: string;
    readonly fleet: FleetConfig;
    readonly device: DeviceConfig;
    readonly sshPrivateKey: pulumi.Input<string>;
    readonly registryToken: pulumi.Input<string>;
    /** `serviceSecrets`: per service, secret name to value. */
    readonly serviceSecrets?: pulumi.Input<Readonly<Record<string, Readonly<Record<string, string>>>>>;
}

/** Every network, volume and service container of one device, through its own provider. */
export class EdgeDevice extends pulumi.ComponentResource {
    readonly connection: DeviceConnection;
    readonly services: Readonly<Partial<Record<ServiceName, ServiceContainer>>>;
    readonly containerIds: pulumi.Output<Record<string, string>>;
    readonly imageDigests: pulumi.Output<Record<string, string>>;
    readonly tvApiUrl: pulumi.Output<string> | undefined;
    /** What this device is deployed with; a rollout records it before changing the device. */
    readonly settings: DeviceSnapshot;

    constructor(name: string, args: EdgeDeviceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("edge-fleet:device:EdgeDevice", name, {}, opts);
        const { fleet, device } = args;
        this.connection = new DeviceConnection(
            name,
            {
                stack: args.stack,
                deviceName: device.name,
                host: device.host,
                port: device.port,
                user: device.user,
                hostPublicKey: device.hostPublicKey,
                sshPrivateKey: args.sshPrivateKey,
                registryServer: fleet.registry.server,
                registryUsername: fleet.registry.username,
                registryToken: args.registryToken,
            },
            { parent: this },
        );
        const onDevice: pulumi.CustomResourceOptions = { parent: this, provider: this.connection.provider };

        const networks: Record<string, docker.Network> = {};
        for (const n of deviceNetworks(device)) {
            networks[n] = new docker.Network(`${name}-${n}`, { name: NETWORK_NAMES[n], driver: "bridge", labels: [{ label: `${LABEL_PREFIX}.stack`, value: args.stack }] }, onDevice);
        }
        const volumes: Record<string, docker.Volume> = {};
        for (const v of deviceVolumes(device)) {
            // Retained, not deleted, when the stack goes or the volume is
            // replaced: metrics and dashboards outlive any one deploy.
            volumes[v] = new docker.Volume(`${name}-${v}`, { name: v }, { ...onDevice, retainOnDelete: true });
        }

        const specs = planDevice(fleet, device, args.stack);
        const registryConfigJson = pulumi
            .secret(args.registryToken)
            .apply((token) => dockerConfigJson(fleet.registry.server, fleet.registry.username, token));
        const services: Partial<Record<ServiceName, ServiceContainer>> = {};
        for (const spec of orderByDependencies(specs)) {
            services[spec.service] = new ServiceContainer(
                `${name}-${spec.service}`,
                {
                    spec,
                    networks,
                    volumes,
                    after: spec.dependsOn.map((d) => services[d]!.container),
                    ...(spec.needsRegistryCredentials ? { registryConfigJson } : {}),
                    ...(spec.secretFiles.length > 0 ? { secrets: pulumi.secret(pulumi.output(args.serviceSecrets ?? {})).apply((all) => all[spec.service] ?? {}) } : {}),
                },
                onDevice,
            );
        }
        this.services = services;

        const entries = Object.entries(services);
        this.containerIds = pulumi.all(entries.map(([, s]) => s.container.id)).apply((ids) => Object.fromEntries(entries.map(([n], i) => [n, ids[i]!])));
        this.imageDigests = pulumi.all(entries.map(([, s]) => s.repoDigest)).apply((ds) => Object.fromEntries(entries.map(([n], i) => [n, ds[i]!])));
        const tvPort = specs.find((s) => s.service === "tv_api")?.ports[0]?.external;
        this.tvApiUrl = tvPort === undefined ? undefined : pulumi.output(`http://${device.host.includes(":") ? `[${device.host}]` : device.host}:${tvPort}/status`);
        this.settings = snapshotOf(fleet, device);
        this.registerOutputs({ containerIds: this.containerIds, imageDigests: this.imageDigests, tvApiUrl: this.tvApiUrl, settings: this.settings });
    }
}
