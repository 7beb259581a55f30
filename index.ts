/**
 * One stack = one fleet of a hardware class. Configuration is validated in
 * full before any resource is declared, then every device gets its own
 * provider and its own set of services.
 */
import * as pulumi from "@pulumi/pulumi";
import { EdgeDevice } from "./components";
import { loadFleet, readRolloutPins } from "./config/read";

const stack = pulumi.getStack();
const { fleet, secrets } = loadFleet();
// A rollback deploys a device's recorded settings instead of the declared ones.
const pins = readRolloutPins();

const devices = fleet.devices.map(
    (device) =>
        new EdgeDevice(device.name, {
            stack,
            fleet: pins[device.name]?.fleet ?? fleet,
            device: pins[device.name]?.fleet.devices[0] ?? device,
            sshPrivateKey: secrets.sshPrivateKey,
            registryToken: secrets.registryToken,
            serviceSecrets: secrets.serviceSecrets,
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
