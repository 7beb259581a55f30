import { describe, expect, it } from "vitest";
import { deviceSchema, HOST_KEY } from "../../config/schema";
import { fleetDevices, madeUpHostKey, shardsFor } from "../../scripts/bench/scenarios/fleet-scale";
import { linearFit } from "../../scripts/bench/lib/tree-sampler";

// The fleet-scale bench previews made-up fleets: a device the schema refused
// would measure the refusal instead of the preview.
describe("the fleet-scale bench's fleets", () => {
    it("are devices the schema accepts, each at an address of its own", () => {
        const devices = fleetDevices(100);
        for (const d of devices) expect(deviceSchema.safeParse(d).success).toBe(true);
        expect(new Set(devices.map((d) => d.host)).size).toBe(100);
        expect(new Set(devices.map((d) => d.hostPublicKey)).size).toBe(100);
    });

    it("have host keys in the ed25519 wire format", () => {
        const key = madeUpHostKey("scale-001");
        expect(key).toMatch(HOST_KEY);
        const blob = Buffer.from(key.split(" ")[1]!, "base64");
        expect(blob.readUInt32BE(0)).toBe(11);
        expect(blob.subarray(4, 15).toString()).toBe("ssh-ed25519");
        expect(blob.readUInt32BE(15)).toBe(32);
        expect(blob.length).toBe(51);
    });

    it("have 1 to 4,000 devices, each at an address of the IPv6 documentation prefix", () => {
        expect(() => fleetDevices(0)).toThrow();
        expect(() => fleetDevices(4001)).toThrow();
        const devices = fleetDevices(1000);
        expect(new Set(devices.map((d) => d.host)).size).toBe(1000);
        for (const d of devices) expect(d.host).toMatch(/^2001:db8::[0-9a-f]+$/);
    });

    it("are one stack up to the shard size, else shard stacks of about that many devices", () => {
        expect([1, 10, 25, 26, 100, 1000].map((n) => shardsFor(n, 25))).toEqual([1, 1, 1, 2, 4, 40]);
    });
});

describe("linearFit", () => {
    it("finds the line through points on it", () => {
        const { slope, intercept } = linearFit([[1, 12], [10, 30], [100, 210]]);
        expect(slope).toBeCloseTo(2);
        expect(intercept).toBeCloseTo(10);
    });
});
