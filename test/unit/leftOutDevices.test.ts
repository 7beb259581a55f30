/**
 * A rollout batch's program run leaves out the devices of which the state
 * holds nothing and that the batch does not deploy (rollout/deviceOps.ts
 * batchScope): without that, the engine fails a first deploy of any batch on
 * the providers of the fleet's other devices.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readLeftOutDevices } from "../../config/read";
import { batchScope } from "../../rollout/deviceOps";
import { Checkpoint } from "../../rollout/state";
import { CONTAINER, byType, runProgram, stackConfig } from "./harness";

describe("EDGE_FLEET_LEAVE_OUT", () => {
    beforeEach(() => {
        vi.resetModules();
    });
    afterEach(() => {
        delete process.env.EDGE_FLEET_LEAVE_OUT;
    });

    it("is read as a set of device names; unset or empty leaves nothing out", () => {
        expect([...readLeftOutDevices(["a", "b", "c"])]).toEqual([]);
        process.env.EDGE_FLEET_LEAVE_OUT = "";
        expect([...readLeftOutDevices(["a", "b", "c"])]).toEqual([]);
        process.env.EDGE_FLEET_LEAVE_OUT = "c,a";
        expect([...readLeftOutDevices(["a", "b", "c"])].sort()).toEqual(["a", "c"]);
    });

    it("ignores names the stack file does not declare: a shard stack's file declares its shard's devices only", () => {
        process.env.EDGE_FLEET_LEAVE_OUT = "a,site-z";
        expect([...readLeftOutDevices(["a", "b"])]).toEqual(["a"]);
    });

    it("makes the program declare no provider, network, image or container of a left-out device, and every one of the others", async () => {
        const values = stackConfig("Pulumi.edge-x86.yaml");
        const first = (values.devices as Record<string, unknown>[])[0]!;
        const devices = [first, { ...first, name: "x86-depot-02", host: "192.0.2.52" }, { ...first, name: "x86-depot-03", host: "192.0.2.53" }] as { name: string }[];
        values.devices = devices;
        const [kept, left] = [devices[0]!.name, devices[1]!.name];
        process.env.EDGE_FLEET_LEAVE_OUT = left;
        const { resources, outputs } = await runProgram(values, { stack: "edge-x86" });
        expect(resources.filter((r) => r.name === left || r.name.startsWith(`${left}-`))).toEqual([]);
        expect(byType(resources, "pulumi:providers:docker").map((r) => r.name)).toEqual(devices.filter((d) => d.name !== left).map((d) => `${d.name}-docker`));
        expect(byType(resources, CONTAINER).filter((r) => r.name.startsWith(`${kept}-`)).length).toBeGreaterThan(0);
        expect((outputs.deviceOutputs as { device: string }[]).map((d) => d.device)).not.toContain(left);
    });

    it("is, for a batch, the fleet's devices the state holds nothing of, outside the batch; the targets are the batch's components and whatever the state holds of them", () => {
        const urn = (type: string, name: string) => `urn:pulumi:edge-x86::edge-fleet::${type}::${name}`;
        const cp: Checkpoint = {
            resources: [
                { urn: urn("edge-fleet:device:EdgeDevice", "dev-1"), type: "edge-fleet:device:EdgeDevice" },
                { urn: urn("edge-fleet:device:EdgeDevice$pulumi:providers:docker", "dev-1-docker"), type: "pulumi:providers:docker" },
                { urn: urn("edge-fleet:device:EdgeDevice", "dev-3"), type: "edge-fleet:device:EdgeDevice" },
            ],
        };
        const all = ["dev-1", "dev-2", "dev-3", "dev-4"];
        expect(batchScope(cp, "edge-x86", ["dev-1", "dev-2"], all)).toEqual({
            targets: [urn("edge-fleet:device:EdgeDevice", "dev-1"), urn("edge-fleet:device:EdgeDevice", "dev-2"), cp.resources![0]!.urn, cp.resources![1]!.urn],
            leaveOut: ["dev-4"],
        });
    });
});
