/**
 * Rollouts over a four-device stack: canary and waves gated on health,
 * automatic rollback, a partitioned device caught up later, a SIGKILLed run
 * finished by the next one, and drift found and put back. The devices run
 * the real images' stand-ins with the seed's healthcheck commands; timings
 * are shortened through the stack settings so a gate takes seconds.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    ROOT, RunResult, authorizeDeployKey, SimDevice, TestStack, checksums, docker, edgeFleet, edgeFleetAsync, inspectStack, localConfig, reapOrphanPlugins, registryDigest, runningDigests, simDevice, waitFor, whileRunning,
} from "./support";

const STACK = "e2e-rollout";
const NAMES = ["sim-edge-05", "sim-edge-06", "sim-edge-07", "sim-edge-08"];
const CORE = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "self_monitor"];
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };
let devices: SimDevice[];
let stack: TestStack;
let values: Record<string, any>;
let archives: Record<string, Record<string, unknown>>;

const idsAndStarts = (d: SimDevice) => Object.fromEntries(Object.entries(inspectStack(d, STACK)).map(([n, c]) => [n, `${c.Id} ${c.State.StartedAt}`]));
const healthOf = (d: SimDevice) => Object.fromEntries(Object.entries(inspectStack(d, STACK)).map(([n, c]) => [n, c.State.Health?.Status ?? c.State.Status]));
const allHealthy = () => Object.fromEntries(CORE.map((s) => [s, "healthy"]));
const rollout = (...extra: string[]) => edgeFleet("rollout", "--stack", STACK, "--config-file", stack.configFile, "--json", ...extra);
const report = (r: RunResult) => JSON.parse(r.stdout) as { status: string; summary: string; devices: Record<string, any> };
const archiveSums = () => Object.fromEntries(devices.map((d, i) => [d.name, Object.fromEntries(Object.entries(checksums(values.devices[i].videoStorageRoot)).filter(([f]) => f.endsWith("e2e-archive.bin")))]));

function withRelease(tvApiTag: string, extra: Record<string, unknown> = {}): void {
    values.release = { tag: "1.0.0", services: { tv_api: { tag: tvApiTag }, ...extra } };
    stack.setConfig(values);
}

beforeAll(() => {
    devices = NAMES.map(simDevice);
    // One deploy key for the whole stack: the first device's.
    for (const d of devices.slice(1)) authorizeDeployKey(d, devices[0]!);
    values = localConfig(devices, "e2e-rollout");
    values.services = Object.fromEntries(CORE.filter((s) => s !== "watchtower").map((s) => [s, { healthcheck: FAST }]));
    values.rollout = { canary: 1, waveSize: 2, parallelDevices: 2, soakSeconds: 5, healthTimeoutSeconds: 60 };
    stack = TestStack.create(STACK, values, devices[0]!);
    stack.destroy();
    // Rollout records of earlier runs (README: beside the state, per stack) would be resumed.
    fs.rmSync(path.join((process.env.PULUMI_BACKEND_URL ?? "").replace(/^file:\/\//, ""), ".edge-fleet", "rollouts", STACK), { recursive: true, force: true });
    for (const d of devices) {
        const left = docker(d, "ps", "-aq", "--filter", `label=edge-fleet.stack=${STACK}`).split(/\s+/).filter(Boolean);
        if (left.length > 0) docker(d, "rm", "-f", ...left);
    }
    withRelease("1.0.0");
    const up = stack.up();
    if (up.code !== 0) throw new Error(`initial deploy failed:\n${up.stdout}\n${up.stderr}`);
    // Data the services never rotate, to prove nothing below is lost.
    for (const d of values.devices) {
        for (const dir of ["input", "processed", "summaries", "loglines", "playlists"]) {
            fs.mkdirSync(path.join(d.videoStorageRoot, dir), { recursive: true });
            fs.writeFileSync(path.join(d.videoStorageRoot, dir, "e2e-archive.bin"), randomBytes(64 * 1024));
        }
    }
    archives = archiveSums();
}, 15 * 60_000);

afterAll(() => {
    for (const d of devices ?? []) spawnHeal(d);
    stack?.destroy();
});

function spawnHeal(d: SimDevice): void {
    try {
        sim("fault", d.name, "heal");
    } catch {
        /* the device may already be healthy */
    }
}

describe("edge-fleet rollout over four devices", () => {
    it("rolls back the canary of a release that never turns healthy, and touches no other device", async () => {
        const good = await registryDigest(devices[0]!, "tv_api", "1.0.0");
        const others = devices.slice(1).map(idsAndStarts);
        withRelease("1.1.0-unhealthy");
        const r = rollout();
        expect(r.code, r.stderr).toBe(1);
        const rep = report(r);
        expect(rep.status).toBe("rolled back");
        const canary = rep.devices["sim-edge-05"];
        expect(canary.status).toBe("rolled back");
        expect(canary.problems).toContainEqual(expect.objectContaining({ service: "tv_api", state: expect.stringMatching(/unhealthy|starting/), healthOutput: expect.stringContaining("503") }));
        expect(runningDigests(devices[0]!, "tv_api")).toContain(good);
        expect(healthOf(devices[0]!)).toEqual(allHealthy());
        expect(devices.slice(1).map(idsAndStarts)).toEqual(others);
        for (const n of NAMES.slice(1)) expect(rep.devices[n].status).toBe("waiting");
    });

    it("moves every device to a new release, canary first, replacing nothing else", async () => {
        const next = await registryDigest(devices[0]!, "tv_api", "1.1.0");
        const before = devices.map(idsAndStarts);
        withRelease("1.1.0");
        const r = rollout();
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const rep = report(r);
        expect(rep.status).toBe("succeeded");
        expect(Object.keys(rep.devices).sort()).toEqual(NAMES);
        devices.forEach((d, i) => {
            expect(runningDigests(d, "tv_api"), d.name).toContain(next);
            expect(rep.devices[d.name].after.tv_api, d.name).toContain(next);
            expect(healthOf(d), d.name).toEqual(allHealthy());
            const after = idsAndStarts(d);
            expect(Object.keys(after).filter((n) => after[n] !== before[i]![n]), d.name).toEqual(["tv_api"]);
        });
        expect(rep.devices["sim-edge-05"].wave).toBe(0);
        const status = JSON.parse(edgeFleet("rollout", "--stack", STACK, "--status", "--json").stdout) as any[];
        expect(status[0].status).toBe("succeeded");
        expect(Object.keys(status[0].devices).sort()).toEqual(NAMES);
        const preview = stack.preview("--expect-no-changes");
        expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    });

    it("rolls back every changed device when a later wave crosses the abort threshold", async () => {
        const v110 = await registryDigest(devices[0]!, "logline_writer", "1.0.0");
        const untouched = idsAndStarts(devices[3]!);
        // A release of logline_writer everywhere; on sim-edge-07 (second wave) tv_api is also made to fail its check.
        values.devices[2].services = { tv_api: { environment: { STANDIN_UNHEALTHY: "1" } } };
        withRelease("1.1.0", { logline_writer: { tag: "1.1.0" } });
        const r = rollout();
        expect(r.code, r.stdout + r.stderr).toBe(1);
        const rep = report(r);
        expect(rep.status).toBe("rolled back");
        expect(rep.devices["sim-edge-07"].problems).toContainEqual(expect.objectContaining({ service: "tv_api" }));
        for (const d of devices.slice(0, 3)) {
            expect(rep.devices[d.name].status, d.name).toBe("rolled back");
            expect(runningDigests(d, "logline_writer"), d.name).toContain(v110);
            expect(healthOf(d), d.name).toEqual(allHealthy());
        }
        expect(docker(devices[2]!, "inspect", "-f", "{{json .Config.Env}}", "tv_api")).not.toContain("STANDIN_UNHEALTHY");
        expect(idsAndStarts(devices[3]!)).toEqual(untouched);
        expect(rep.devices["sim-edge-08"].status).toBe("waiting");
        delete values.devices[2].services;
    });

    it("reports a device partitioned during the rollout, completes the others, and catches it up once it answers", async () => {
        const target = await registryDigest(devices[0]!, "tv_api", "1.0.0");
        withRelease("1.0.0");
        const run = edgeFleetAsync("rollout", "--stack", STACK, "--config-file", stack.configFile, "--json");
        // Cut the last wave's device off once the canary runs the new release.
        await whileRunning(run, async () => {
            await waitFor("the canary on the new release", 300, () => runningDigests(devices[0]!, "tv_api").includes(target));
            sim("fault", "sim-edge-08", "partition");
        });
        const r = await run.done;
        sim("fault", "sim-edge-08", "heal");
        expect(r.code, r.stdout + r.stderr).toBe(3);
        const rep = report(r);
        expect(rep.devices["sim-edge-08"]).toMatchObject({ status: "unreachable", reason: expect.stringMatching(/timed out|unreachable/) });
        expect(rep.summary).toContain("sim-edge-08");
        for (const d of devices.slice(0, 3)) expect(runningDigests(d, "tv_api"), d.name).toContain(target);
        expect(runningDigests(devices[3]!, "tv_api")).not.toContain(target);

        const again = rollout();
        expect(again.code, again.stdout + again.stderr).toBe(0);
        expect(runningDigests(devices[3]!, "tv_api")).toContain(target);
        expect(healthOf(devices[3]!)).toEqual(allHealthy());
    });

    it("finishes, on the next run and without manual steps, a rollout SIGKILLed in the middle of a replace", async () => {
        const target = await registryDigest(devices[0]!, "tv_api", "1.1.0");
        const old = docker(devices[0]!, "inspect", "-f", "{{.Id}}", "tv_api").trim();
        withRelease("1.1.0");
        const run = edgeFleetAsync("rollout", "--stack", STACK, "--config-file", stack.configFile, "--json");
        await whileRunning(run, () =>
            waitFor("tv_api on the canary being replaced", 300, () => {
                const now = docker(devices[0]!, "ps", "-aq", "--no-trunc", "--filter", "name=^tv_api$").trim();
                return now !== old;
            }, 0.2),
        );
        process.kill(-run.child.pid!, "SIGKILL");
        await run.done;
        reapOrphanPlugins();
        const again = rollout();
        expect(again.code, again.stdout + again.stderr).toBe(0);
        // The killed run could not remove its copy of the deploy key; the next
        // one did. Runs of other test files may hold copies of their own
        // meanwhile: only a copy whose process is gone is a leftover.
        const leftovers = fs.readdirSync(os.tmpdir()).filter((n) => {
            const pid = /^edge-fleet-ssh-(\d+)-/.exec(n)?.[1];
            return pid !== undefined && !fs.existsSync(`/proc/${pid}`);
        });
        expect(leftovers).toEqual([]);
        for (const d of devices) {
            expect(runningDigests(d, "tv_api"), d.name).toContain(target);
            expect(healthOf(d), d.name).toEqual(allHealthy());
        }
        const preview = stack.preview("--expect-no-changes");
        expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    });

    it("lists a container stopped and a limit changed by hand as drift, and the next rollout puts them back", () => {
        docker(devices[1]!, "stop", "scene_scanner");
        docker(devices[2]!, "update", "--memory", "300m", "--memory-swap", "300m", "logline_writer");
        const drift = edgeFleet("drift", "--stack", STACK, "--config-file", stack.configFile, "--json");
        expect(drift.code, drift.stdout + drift.stderr).toBe(2);
        const items = (JSON.parse(drift.stdout) as { drift: { device: string; resource: string; fields: { field: string }[] }[] }).drift;
        expect(items).toContainEqual(expect.objectContaining({ device: "sim-edge-06", resource: "scene_scanner" }));
        expect(items).toContainEqual(
            expect.objectContaining({ device: "sim-edge-07", resource: "logline_writer", fields: expect.arrayContaining([expect.objectContaining({ field: "memory" })]) }),
        );
        expect(items.filter((i) => !["sim-edge-06", "sim-edge-07"].includes(i.device))).toEqual([]);

        const r = rollout();
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(healthOf(devices[1]!).scene_scanner).toBe("healthy");
        const lw = inspectStack(devices[2]!, STACK).logline_writer;
        expect([lw.HostConfig.Memory, lw.HostConfig.MemorySwap]).toEqual([256 * 1024 * 1024, 256 * 1024 * 1024]);
        expect(edgeFleet("drift", "--stack", STACK, "--config-file", stack.configFile).code).toBe(0);
    });

    it("finishes a first deploy SIGKILLed once the canary's networks exist, creating no network or container twice", async () => {
        const down = stack.destroy();
        expect(down.code, down.stdout + down.stderr).toBe(0);
        const canary = devices[0]!;
        const ours = (d: SimDevice, ...what: string[]) => docker(d, ...what, "--filter", `label=edge-fleet.stack=${STACK}`).split(/\s+/).filter(Boolean);
        const run = edgeFleetAsync("rollout", "--stack", STACK, "--config-file", stack.configFile, "--json");
        await whileRunning(run, () =>
            waitFor("the canary's networks and a first container", 300, () => ours(canary, "network", "ls", "-q").length === 2 && ours(canary, "ps", "-aq").length > 0, 0.2),
        );
        process.kill(-run.child.pid!, "SIGKILL");
        await run.done;
        reapOrphanPlugins();

        const again = rollout();
        expect(again.code, again.stdout + again.stderr).toBe(0);
        for (const d of devices) {
            const networks = docker(d, "network", "ls", "--filter", `label=edge-fleet.stack=${STACK}`, "--format", "{{.Name}}").split(/\s+/).filter(Boolean).sort();
            expect(networks, d.name).toEqual(["vv_backend", "vv_control"]);
            expect(ours(d, "ps", "-aq").length, d.name).toBe(CORE.length);
            expect(healthOf(d), d.name).toEqual(allHealthy());
        }
        const preview = stack.preview("--expect-no-changes");
        expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    });

    it("keeps every file under the storage roots byte-identical through all of the above", () => {
        expect(archiveSums()).toEqual(archives);
        for (const sums of Object.values(archives)) expect(Object.keys(sums)).toHaveLength(5);
    });
});

function sim(...args: string[]): void {
    execFileSync("bash", [path.join(ROOT, "sim", "device.sh"), ...args], { stdio: "ignore" });
}
