/**
 * One stack = one fleet of a hardware class. Configuration is validated in
 * full before any resource is declared, then every device gets its own
 * provider and its own set of services.
 */
import * as pulumi from "@pulumi/pulumi";
import { EdgeDevice } from "./components";
import { loadFleet } from "./config/read";

const stack = pulumi.getStack();
const { fleet, secrets } = loadFleet();

const devices = fleet.devices.map(
    (device) =>
        new EdgeDevice(device.name, {
            stack,
            fleet,
            device,
            sshPrivateKey: secrets.sshPrivateKey,
            registryToken: secrets.registryToken,
        }),
);

export const hardwareClass = fleet.hardwareClass;
export const deviceOutputs = pulumi.all(
    devices.map((d, i) =>
        pulumi.all([d.containerIds, d.imageDigests, d.tvApiUrl]).apply(([containerIds, imageDigests, tvApiUrl]) => ({
            device: fleet.devices[i]!.name,
            dockerHost: d.connection.dockerHost,
            containerIds,
            imageDigests,
            tvApiUrl,
        })),
    ),
);
