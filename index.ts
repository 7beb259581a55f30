/**
 * One stack = one fleet of a hardware class. Configuration is validated in
 * full before any resource is declared, then every device gets its own
 * provider and its own set of services.
 */
// First: the compile cache and a deferred Automation API (bin/node-startup.cjs).
import "./bin/node-startup.cjs";
import * as pulumi from "@pulumi/pulumi";
import { EdgeDevice } from "./components";
import { loadFleet, readLeftOutDevices, readRolloutPins } from "./config/read";
import { devicesOfStack } from "./plan/shards";
import { trimRuntime } from "./program/runtime";

// Before any resource: what the runtime does per resource that nobody reads.
trimRuntime();

const stack = pulumi.getStack();
const { fleet, secrets } = loadFleet();
// A rollback deploys a device's recorded settings instead of the declared ones.
const pins = readRolloutPins();
// A fleet split into shard stacks: this stack declares its shard's devices only.
const mine = new Set(devicesOfStack(stack, fleet.devices.map((d) => d.name), fleet.shards));
// A rollout's batch leaves out the devices never deployed that it does not deploy.
const leftOut = readLeftOutDevices(fleet.devices.map((d) => d.name));
const declared = fleet.devices.filter((d) => mine.has(d.name) && !leftOut.has(d.name));

const devices = declared.map(
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
            device: declared[i]!.name,
            dockerHost: d.connection.dockerHost,
            containerIds,
            imageDigests,
            tvApiUrl,
        })),
    ),
);
