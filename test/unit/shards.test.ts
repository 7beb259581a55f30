import { describe, expect, it } from "vitest";
import { ShardError, devicesOfStack, parseShardStack, planShards, shardOf, shardStackName } from "../../plan/shards";

const names = (n: number, prefix = "site-a") => Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(4, "0")}`);

describe("shard stack names", () => {
    it("pad index and count to one width, at least two digits, so they sort in order", () => {
        expect(shardStackName("edge-jetson", 7, 40)).toBe("edge-jetson.shard-07-of-40");
        expect(shardStackName("edge-jetson", 7, 9)).toBe("edge-jetson.shard-07-of-09");
        expect(shardStackName("edge-x86", 12, 100)).toBe("edge-x86.shard-012-of-100");
    });

    it("read back as fleet, index and count; other names are not shards", () => {
        expect(parseShardStack("edge-jetson.shard-07-of-40")).toEqual({ fleet: "edge-jetson", index: 7, count: 40 });
        expect(parseShardStack("a.b.shard-1-of-2")).toEqual({ fleet: "a.b", index: 1, count: 2 });
        expect(parseShardStack("edge-jetson")).toBeUndefined();
        expect(parseShardStack("edge-jetson.shard-41-of-40")).toBeUndefined();
        expect(parseShardStack("edge-jetson.shard-00-of-40")).toBeUndefined();
    });
});

describe("a device's shard", () => {
    it("is the same on every run and for every fleet size: adding or removing devices moves no other device", () => {
        const before = names(300);
        const after = [...before.slice(0, 100), ...before.slice(150), ...names(80, "site-b")];
        for (const d of before.filter((x) => after.includes(x))) expect(shardOf(d, 12)).toBe(shardOf(d, 12));
        const planBefore = new Map(planShards("f", before, 12).flatMap((s) => s.devices.map((d) => [d, s.index] as const)));
        const planAfter = new Map(planShards("f", after, 12).flatMap((s) => s.devices.map((d) => [d, s.index] as const)));
        for (const [d, shard] of planAfter) if (planBefore.has(d)) expect(shard).toBe(planBefore.get(d));
    });

    it("spreads 1,000 devices over 40 shards, every device once, none above one and a half times the mean of 25", () => {
        const shards = planShards("edge-jetson", names(1000), 40);
        expect(shards.map((s) => s.stack)).toEqual(Array.from({ length: 40 }, (_, i) => shardStackName("edge-jetson", i + 1, 40)));
        expect(shards.flatMap((s) => s.devices).sort()).toEqual(names(1000));
        for (const s of shards) expect(s.devices.length).toBeGreaterThanOrEqual(10);
        for (const s of shards) expect(s.devices.length).toBeLessThanOrEqual(37);
    });
});

describe("the devices a stack declares", () => {
    const fleet = names(50);

    it("are all of them when the fleet is not split", () => {
        expect(devicesOfStack("edge-jetson", fleet, 1)).toEqual(fleet);
    });

    it("are its shard's in a shard stack of the current count", () => {
        const shards = planShards("edge-jetson", fleet, 4);
        for (const s of shards) expect(devicesOfStack(s.stack, fleet, 4)).toEqual(s.devices);
    });

    it("are refused in the fleet's own stack once it is split, naming the shard stacks and the command", () => {
        expect(() => devicesOfStack("edge-jetson", fleet, 4)).toThrow(ShardError);
        expect(() => devicesOfStack("edge-jetson", fleet, 4)).toThrow(
            "edge-fleet:shards is 4: the devices of stack edge-jetson are deployed by its 4 shard stacks (edge-jetson.shard-01-of-04 ... edge-jetson.shard-04-of-04)",
        );
    });

    it("are refused in a shard stack of another count, which would move devices between stacks", () => {
        expect(() => devicesOfStack("edge-jetson.shard-03-of-04", fleet, 5)).toThrow(
            "stack edge-jetson.shard-03-of-04 is shard 3 of 4, but edge-fleet:shards is 5: a new count moves most devices to other stacks",
        );
    });
});
