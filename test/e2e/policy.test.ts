/**
 * The policy pack as the engine runs it: `pulumi preview` and `pulumi up` with
 * `--policy-pack policy/analyzer`, and `edge-fleet rollout`, against
 * sim-edge-18. Until the last test the stack is not deployed: a preview of a
 * new device needs no deploy, and a refused update must leave the device
 * empty. The last one deploys the compliant stack once; it is destroyed after.
 */
import * as fs from "node:fs";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult, SimDevice, TestStack, docker, edgeFleet, localConfig, simDevice, stackFilter } from "./support";

const STACK = "e2e-policy";
let device: SimDevice;
let stack: TestStack;
let values: Record<string, any>;

/** The stack's config with these `edge-fleet-policy:` settings, the rest as the local stack file has it. */
function withPolicy(settings: Record<string, unknown>): void {
    stack.setConfig(values);
    const doc = parseYaml(fs.readFileSync(stack.configFile, "utf8")) as { config: Record<string, unknown> };
    for (const [k, v] of Object.entries(settings)) doc.config[`edge-fleet-policy:${k}`] = v;
    fs.writeFileSync(stack.configFile, toYaml(doc, { lineWidth: 0 }), { mode: 0o600 });
}

const output = (r: RunResult) => r.stdout + r.stderr;
const containersOnDevice = () => docker(device, "ps", "-aq", "--filter", stackFilter(STACK)).trim();
const timings: string[] = [];

beforeAll(() => {
    device = simDevice("sim-edge-18");
    values = localConfig([device], "e2e-policy");
    stack = TestStack.create(STACK, values, device);
    // A stack left deployed by an earlier, interrupted run would make its previews no-ops.
    stack.destroy();
});

afterAll(() => {
    if (timings.length > 0) console.log(`policy pack timings:\n${timings.join("\n")}`);
    if (stack) {
        stack.setConfig(values);
        stack.destroy();
    }
});

describe("the policy pack in the engine", () => {
    it("passes the local stack's settings, and reports itself in the preview", () => {
        const withPack = stack.preview();
        expect(withPack.code, output(withPack)).toBe(0);
        expect(output(withPack)).toMatch(/edge-fleet@v0\.1\.0/);
        const without = stack.pulumi("preview", "--suppress-progress");
        expect(without.code, output(without)).toBe(0);
        timings.push(`preview with the pack ${withPack.seconds.toFixed(1)} s, without ${without.seconds.toFixed(1)} s`);
    });

    it("refuses a preview that publishes a port outside the stack's allowlist, naming the rule", () => {
        withPolicy({ allowedPorts: [3000] });
        const r = stack.preview();
        expect(r.code).not.toBe(0);
        expect(output(r)).toContain("published-ports-allowlist");
        expect(output(r)).toContain("tv_api on sim-edge-18 publishes host port 8000; allowed: 3000");
        expect(output(r)).toMatch(/mandatory/);
    });

    it("refuses the same change in `pulumi up` before anything reaches the device", () => {
        withPolicy({ allowedPorts: [3000] });
        const r = stack.up();
        expect(r.code).not.toBe(0);
        expect(output(r)).toContain("tv_api on sim-edge-18 publishes host port 8000");
        expect(containersOnDevice()).toBe("");
        timings.push(`refused up ${r.seconds.toFixed(1)} s`);
    });

    it("takes each rule's level from the stack: advisory warns, mandatory refuses", () => {
        withPolicy({ enforcement: { "images-pinned-by-digest": "advisory" } });
        const warned = stack.preview();
        expect(warned.code, output(warned)).toBe(0);
        expect(output(warned)).toMatch(/images-pinned-by-digest[\s\S]*tv_api on sim-edge-18 uses 10\.77\.0\.1:5000\/vv-video-ai\/tv_api:1\.0\.0, a tag that can move/);

        withPolicy({ enforcement: { "images-pinned-by-digest": "mandatory" } });
        const refused = stack.preview();
        expect(refused.code).not.toBe(0);
        expect(output(refused)).toContain("a tag that can move; pin it by digest");
    });

    it("lets --policy-pack-config override the stack's level", () => {
        withPolicy({ allowedPorts: [3000] });
        const file = `${stack.configFile}.policy.json`;
        fs.writeFileSync(file, JSON.stringify({ "published-ports-allowlist": "advisory" }));
        const r = stack.preview("--policy-pack-config", file);
        fs.rmSync(file);
        expect(r.code, output(r)).toBe(0);
        expect(output(r)).toMatch(/\[advisory\]\s+published-ports-allowlist[\s\S]*tv_api on sim-edge-18 publishes host port 8000/);
    });

    it("refuses a malformed policy setting instead of judging by defaults", () => {
        withPolicy({ enforcement: { "no-such-rule": "mandatory" } });
        const r = stack.preview();
        expect(r.code).not.toBe(0);
        expect(output(r)).toContain("edge-fleet-policy:enforcement names unknown rules no-such-rule");
    });

    it("runs in `edge-fleet rollout`, which deploys nothing to a device the pack refuses", () => {
        withPolicy({ allowedPorts: [3000] });
        const r = edgeFleet("rollout", "--stack", STACK, "--config-file", stack.configFile);
        expect(r.code, output(r)).toBe(1);
        expect(output(r)).toContain("refused by the policy pack: published-ports-allowlist: tv_api on sim-edge-18 publishes host port 8000");
        expect(containersOnDevice()).toBe("");
        timings.push(`refused rollout ${r.seconds.toFixed(1)} s`);
    });

    it("passes a compliant `pulumi up`; a no-op up is timed with and without the pack", () => {
        stack.setConfig(values);
        const up = stack.up();
        expect(up.code, output(up)).toBe(0);
        expect(output(up)).toMatch(/edge-fleet@v0\.1\.0/);
        expect(containersOnDevice().split(/\s+/).filter(Boolean).length).toBeGreaterThanOrEqual(8);
        const withPack = stack.up("--expect-no-changes");
        const without = stack.pulumi("up", "--yes", "--suppress-progress", "--expect-no-changes");
        expect(withPack.code, output(withPack)).toBe(0);
        expect(without.code, output(without)).toBe(0);
        timings.push(`first up ${up.seconds.toFixed(1)} s; no-op up with the pack ${withPack.seconds.toFixed(1)} s, without ${without.seconds.toFixed(1)} s`);
    });
});
