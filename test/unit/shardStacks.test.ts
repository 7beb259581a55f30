import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { FleetStack } from "../../rollout/pulumiStack";
import { groupByStack, mapBounded, shardCountOf } from "../../rollout/shardStacks";

const stackNamed = (name: string) => ({ name }) as unknown as FleetStack;

describe("a sharded fleet's stacks", () => {
    it("take a batch's devices each to the stack that deploys them, in stack order, leaving out stacks with none", () => {
        const [s1, s2, s3] = ["f.shard-1-of-3", "f.shard-2-of-3", "f.shard-3-of-3"].map(stackNamed);
        const stacks = [
            { s: s1!, devices: ["a", "d"] },
            { s: s2!, devices: ["b"] },
            { s: s3!, devices: ["c", "e"] },
        ];
        expect(groupByStack(stacks, ["e", "a", "c"]).map(([s, ds]) => [s.name, ds])).toEqual([
            ["f.shard-1-of-3", ["a"]],
            ["f.shard-3-of-3", ["c", "e"]],
        ]);
    });

    it("run at most the given number at once and give results in input order", async () => {
        let running = 0;
        let most = 0;
        const results = await mapBounded([30, 5, 20, 1, 10], 2, async (ms, i) => {
            most = Math.max(most, ++running);
            await new Promise((r) => setTimeout(r, ms));
            running--;
            return i;
        });
        expect(results).toEqual([0, 1, 2, 3, 4]);
        expect(most).toBe(2);
    });

    it("are counted from the stack file, where `pulumi config set` may have written the number as text", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shards-"));
        const file = (text: string) => {
            const f = path.join(dir, `Pulumi.${Math.random()}.yaml`);
            fs.writeFileSync(f, text);
            return f;
        };
        expect(shardCountOf(file("config:\n  edge-fleet:shards: 40\n"))).toBe(40);
        expect(shardCountOf(file('config:\n  edge-fleet:shards: "12"\n'))).toBe(12);
        expect(shardCountOf(file("config:\n  edge-fleet:hardwareClass: cpu\n"))).toBe(1);
        // Not a count: the parser refuses it with the field and the value, through the unsharded path.
        expect(shardCountOf(file("config:\n  edge-fleet:shards: 2.5\n"))).toBe(1);
        expect(shardCountOf(path.join(dir, "missing.yaml"))).toBe(1);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("running stacks a few at a time", () => {
    it("starts nothing new after a failure and lets the ones in flight finish before it throws", async () => {
        const finished: number[] = [];
        const started: number[] = [];
        const run = mapBounded([0, 1, 2, 3, 4], 2, async (i) => {
            started.push(i);
            if (i === 0) throw new Error("stack locked");
            await new Promise((r) => setTimeout(r, 30));
            finished.push(i);
            return i;
        });
        await expect(run).rejects.toThrow("stack locked");
        expect(started).toEqual([0, 1]);
        expect(finished).toEqual([1]);
    });
});
