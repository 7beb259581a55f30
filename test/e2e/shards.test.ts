/**
 * A fleet split into shard stacks (issue "Fleet scale and deploy speed",
 * item 1; README "Fleets of hundreds of devices"): `edge-fleet:shards: 2`
 * over sim-edge-22 and sim-edge-24, which the hash of their names puts in
 * different shards. The rollout creates and drives the shard stacks through
 * the Automation API; each device's containers belong to its shard's stack;
 * the fleet's own stack deploys nothing; a new shard count is refused before
 * any device is touched. Healthchecks are shortened through the stack settings.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult, SimDevice, TestStack, authorizeDeployKey, docker, edgeFleet, inspectStack, localConfig, run, simDevice } from "./support";

const STACK = "e2e-shards";
/** Which shard each device is in, as the README's rule (SHA-256 of the name, modulo 2) puts them. */
const SHARD_OF: Record<string, string> = { "sim-edge-22": `${STACK}.shard-01-of-02`, "sim-edge-24": `${STACK}.shard-02-of-02` };
const SHARD_STACKS = [`${STACK}.shard-01-of-02`, `${STACK}.shard-02-of-02`];
const CORE = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "self_monitor"];
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };

let devices: SimDevice[];
let stack: TestStack;
let values: Record<string, any>;

const rollout = () => edgeFleet("rollout", "--stack", STACK, "--config-file", stack.configFile, "--json");
const report = (r: RunResult) => JSON.parse(r.stdout) as { status: string; summary: string; devices: Record<string, any> };
const health = (d: SimDevice) => Object.fromEntries(Object.entries(inspectStack(d, SHARD_OF[d.name]!)).map(([n, c]) => [n, c.State.Health?.Status ?? c.State.Status]));
const ids = (d: SimDevice) => Object.fromEntries(Object.entries(inspectStack(d, SHARD_OF[d.name]!)).map(([n, c]) => [n, c.Id as string]));
const allHealthy = Object.fromEntries(CORE.map((s) => [s, "healthy"]));

/** The device names whose EdgeDevice component a stack's state holds. */
function devicesInState(stackName: string): string[] {
    const r = run("pulumi", ["stack", "export", "--stack", stackName]);
    if (r.code !== 0) throw new Error(`pulumi stack export ${stackName}: ${r.stderr}`);
    const resources = (JSON.parse(r.stdout) as { deployment: { resources?: { type: string; urn: string }[] } }).deployment.resources ?? [];
    return resources.filter((x) => x.type === "edge-fleet:device:EdgeDevice").map((x) => x.urn.slice(x.urn.lastIndexOf("::") + 2)).sort();
}

/** Shard stacks of this test left by an earlier run: their containers and the stacks themselves go. */
function removeShardStacks(): void {
    const ls = run("pulumi", ["stack", "ls", "--json"]);
    const names = ls.code === 0 ? (JSON.parse(ls.stdout) as { name: string }[]).map((s) => s.name).filter((n) => n.startsWith(`${STACK}.shard-`)) : [];
    for (const n of names) {
        run("pulumi", ["cancel", "--yes", "--stack", n, "--non-interactive"]);
        run("pulumi", ["stack", "rm", n, "--force", "--yes", "--non-interactive"]);
    }
    for (const d of devices) {
        const left = docker(d, "ps", "-aq", "--filter", "label=edge-fleet.stack").split(/\s+/).filter(Boolean);
        const ours = left.filter((id) => docker(d, "inspect", "-f", '{{index .Config.Labels "edge-fleet.stack"}}', id).trim().startsWith(`${STACK}.shard-`));
        if (ours.length > 0) docker(d, "rm", "-f", ...ours);
    }
}

beforeAll(() => {
    devices = ["sim-edge-22", "sim-edge-24"].map(simDevice);
    authorizeDeployKey(devices[1]!, devices[0]!);
    values = localConfig(devices, "e2e-shards");
    values.services = Object.fromEntries(CORE.filter((s) => s !== "watchtower").map((s) => [s, { healthcheck: FAST }]));
    values.rollout = { canary: 1, waveSize: 1, parallelDevices: 2, soakSeconds: 2, healthTimeoutSeconds: 60 };
    values.release = { tag: "1.0.0" };
    values.shards = 2;
    stack = TestStack.create(STACK, values, devices[0]!);
    removeShardStacks();
    fs.rmSync(path.join((process.env.PULUMI_BACKEND_URL ?? "").replace(/^file:\/\//, ""), ".edge-fleet", "rollouts", STACK), { recursive: true, force: true });
}, 5 * 60_000);

afterAll(() => {
    for (const n of SHARD_STACKS) run("pulumi", ["destroy", "--stack", n, "--config-file", stack.configFile, "--yes", "--suppress-progress", "--non-interactive"]);
    if (devices) removeShardStacks();
});

describe("a fleet split into two shard stacks", () => {
    it("is deployed by edge-fleet rollout, each device through its own shard stack, every service healthy", () => {
        const r = rollout();
        expect(r.code, r.stderr).toBe(0);
        const rep = report(r);
        expect(rep.status).toBe("succeeded");
        expect(Object.fromEntries(Object.entries(rep.devices).map(([n, d]) => [n, d.status]))).toEqual({ "sim-edge-22": "healthy", "sim-edge-24": "healthy" });
        for (const d of devices) expect(health(d)).toEqual(allHealthy);
        expect(devicesInState(SHARD_OF["sim-edge-22"]!)).toEqual(["sim-edge-22"]);
        expect(devicesInState(SHARD_OF["sim-edge-24"]!)).toEqual(["sim-edge-24"]);
        expect(devicesInState(STACK)).toEqual([]);
    }, 10 * 60_000);

    it("is refused by `pulumi up` of the fleet's own stack, which would deploy the devices a second time", () => {
        const before = devices.map(ids);
        const r = stack.up();
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toContain(`edge-fleet:shards is 2: the devices of stack ${STACK} are deployed by its 2 shard stacks (${SHARD_STACKS[0]} ... ${SHARD_STACKS[1]})`);
        expect(devices.map(ids)).toEqual(before);
        expect(devicesInState(STACK)).toEqual([]);
    }, 5 * 60_000);

    it("is previewed as one report over both shard stacks, then moved to a new tv_api release replacing only tv_api", () => {
        values.release = { tag: "1.0.0", services: { tv_api: { tag: "1.1.0" } } };
        stack.setConfig(values);
        const preview = edgeFleet("preview", "--stack", STACK, "--config-file", stack.configFile);
        expect(preview.code, preview.stderr).toBe(0);
        expect(preview.stdout).toContain(`stack ${STACK}: 2 devices`);
        expect(preview.stdout).toContain("containers: 0 created, 2 replaced, 0 updated, 0 deleted");
        const before = devices.map(ids);
        const r = rollout();
        expect(r.code, r.stderr).toBe(0);
        expect(report(r).status).toBe("succeeded");
        devices.forEach((d, i) => {
            const after = ids(d);
            expect(health(d)).toEqual(allHealthy);
            expect(after.tv_api).not.toBe(before[i]!.tv_api);
            for (const s of CORE.filter((x) => x !== "tv_api")) expect(after[s], `${d.name} ${s}`).toBe(before[i]![s]);
        });
    }, 10 * 60_000);

    it("refuses a new shard count while the old shard stacks deploy the devices, before touching any device", () => {
        const before = devices.map(ids);
        stack.setConfig({ ...values, shards: 3 });
        try {
            const r = rollout();
            expect(r.code).not.toBe(0);
            expect(r.stderr).toContain(`edge-fleet:shards is 3, but ${SHARD_STACKS[0]} (`);
            expect(r.stderr).toContain("move their state into the shard stacks first (pulumi state move)");
            expect(devices.map(ids)).toEqual(before);
        } finally {
            stack.setConfig(values);
        }
        // Refused before any stack of the new count was created.
        const ls = JSON.parse(run("pulumi", ["stack", "ls", "--json"]).stdout) as { name: string }[];
        expect(ls.map((s) => s.name).filter((n) => n.startsWith(`${STACK}.shard-`) && n.endsWith("-of-03"))).toEqual([]);
    }, 5 * 60_000);
});
