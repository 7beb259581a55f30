/**
 * Healthy in seconds on a current Docker Engine (README, "Healthy in
 * seconds"). sim-edge-23 runs an Engine built from Go modules (sim/device.sh
 * up --engine current, API 1.44 and later), and the stack sets
 * `healthcheckStartIntervalSeconds: 1` over the seed's own healthchecks, not
 * shortened ones: this file is about the seed's values. Docker then checks a
 * starting container every second, so each service is known healthy within
 * seconds of its start instead of after its first regular interval (120 s
 * for playlist_manager), while the intervals in steady state stay the seed's.
 *
 * Health is read through the Engine's API at version 1.44: older versions
 * (the docker CLI of the machine speaks 1.41) do not show StartInterval.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult, SimDevice, TestStack, docker, localConfig, simDevice, stackFilter } from "./support";

const DEVICE = "sim-edge-23";
const STACK = "e2e-current-engine";
const SECOND_NS = 1_000_000_000;

/**
 * The seed's healthchecks (section 4; README, service defaults): interval and
 * start period in seconds. With a start interval, the start period becomes at
 * least one interval (README), so the fast checks cover the wait for the
 * first regular one.
 */
const SEED_HEALTH: Record<string, { intervalSeconds: number; timeoutSeconds: number; startPeriodSeconds: number }> = {
    agent_dvr: { intervalSeconds: 30, timeoutSeconds: 10, startPeriodSeconds: 30 },
    scene_scanner: { intervalSeconds: 60, timeoutSeconds: 10, startPeriodSeconds: 30 },
    scene_summarizer: { intervalSeconds: 60, timeoutSeconds: 10, startPeriodSeconds: 60 },
    logline_writer: { intervalSeconds: 30, timeoutSeconds: 10, startPeriodSeconds: 30 },
    playlist_manager: { intervalSeconds: 120, timeoutSeconds: 10, startPeriodSeconds: 0 },
    tv_api: { intervalSeconds: 30, timeoutSeconds: 10, startPeriodSeconds: 60 },
    watchtower: { intervalSeconds: 60, timeoutSeconds: 10, startPeriodSeconds: 10 },
    self_monitor: { intervalSeconds: 30, timeoutSeconds: 5, startPeriodSeconds: 10 },
};
const SERVICES = Object.keys(SEED_HEALTH);

let device: SimDevice;
let stack: TestStack;
let values: Record<string, any>;
let cold: RunResult;

/** GET on the device's Docker API, at a version that shows StartInterval. */
function engineApi(pathAndQuery: string): any {
    const socket = device.dockerHost.replace(/^unix:\/\//, "");
    return JSON.parse(execFileSync("curl", ["-sf", "--unix-socket", socket, `http://device${pathAndQuery}`], { encoding: "utf8" }));
}

/** The stack's containers as the Engine's API 1.44 shows them, by name. */
function containers(): Record<string, any> {
    const ids = docker(device, "ps", "-aq", "--filter", stackFilter(STACK)).split(/\s+/).filter(Boolean);
    const all = ids.map((id) => engineApi(`/v1.44/containers/${id}/json`));
    return Object.fromEntries(all.map((c) => [String(c.Name).replace(/^\//, ""), c]));
}

/**
 * Seconds from the container's start to the end of its first passing check.
 * Docker keeps a container's last five checks; right after a deploy the
 * first pass is among them (after it, checks come one interval apart).
 */
function secondsToFirstPass(c: any): number {
    const started = Date.parse(c.State.StartedAt);
    const passes = (c.State.Health.Log as { Start: string; End: string; ExitCode: number }[]).filter((l) => l.ExitCode === 0 && Date.parse(l.Start) >= started);
    expect(passes.length, `${c.Name}: no passing check in ${JSON.stringify(c.State.Health.Log)}`).toBeGreaterThan(0);
    return (Date.parse(passes[0]!.End) - started) / 1000;
}

function expectHealthyFast(name: string, c: any): void {
    expect(c.State.Status, name).toBe("running");
    expect(c.State.Health.Status, name).toBe("healthy");
    // Known healthy before the first regular check could even have run.
    expect(secondsToFirstPass(c), name).toBeLessThan(SEED_HEALTH[name]!.intervalSeconds);
}

beforeAll(() => {
    device = simDevice(DEVICE);
    if ((device as any).engine !== "current") {
        throw new Error(`${DEVICE} runs the '${(device as any).engine}' engine; bring it up with: sim/device.sh up ${DEVICE} --engine current`);
    }
    values = localConfig([device], "e2e-current-engine");
    values.release = { tag: "1.0.0" };
    values.healthcheckStartIntervalSeconds = 1;
    stack = TestStack.create(STACK, values, device);
    const down = stack.destroy();
    if (down.code !== 0) throw new Error(`destroy of an earlier ${STACK} failed:\n${down.stdout}\n${down.stderr}`);
    cold = stack.up();
}, 15 * 60_000);

afterAll(() => {
    stack?.destroy();
});

describe("a current engine with healthcheckStartIntervalSeconds: 1", () => {
    it("runs an Engine that serves API 1.44 or later", () => {
        const v = engineApi("/version");
        const [major, minor] = String(v.ApiVersion).split(".").map(Number);
        expect(major! * 1000 + minor!).toBeGreaterThanOrEqual(1044);
    });

    it("deploys every seed service healthy within seconds of its start, with the seed's intervals in steady state", () => {
        expect(cold.code, `${cold.stdout}\n${cold.stderr}`).toBe(0);
        const found = containers();
        expect(Object.keys(found).sort()).toEqual([...SERVICES].sort());
        for (const [name, seed] of Object.entries(SEED_HEALTH)) {
            const hc = found[name].Config.Healthcheck;
            expect(hc.Interval, name).toBe(seed.intervalSeconds * SECOND_NS);
            expect(hc.StartInterval, name).toBe(SECOND_NS);
            expect(hc.StartPeriod, name).toBe(Math.max(seed.startPeriodSeconds, seed.intervalSeconds) * SECOND_NS);
            expect(hc.Retries, name).toBe(3);
            expect(hc.Timeout, name).toBe(seed.timeoutSeconds * SECOND_NS);
            expectHealthyFast(name, found[name]);
        }
    });

    it("runs watchtower against the Engine's minimum API (it would ask for 1.25, which Engine 29 refuses)", () => {
        const w = containers().watchtower;
        expect(w.Config.Env).toContain("DOCKER_API_VERSION=1.40");
        expect(w.RestartCount).toBe(0);
        expect(w.State.Health.Status).toBe("healthy");
        const logs = execFileSync("docker", ["--host", device.dockerHost, "logs", "watchtower"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        expect(logs).not.toMatch(/too old|minimum supported API/i);
    });

    it("replaces only the changed service, healthy within seconds", () => {
        const before = containers();
        values.release = { tag: "1.0.0", services: { tv_api: { tag: "1.1.0" } } };
        stack.setConfig(values);
        const r = stack.up();
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        const after = containers();
        expect(after.tv_api.Config.Image).toMatch(/\/tv_api:1\.1\.0$/);
        expect(after.tv_api.Id).not.toBe(before.tv_api.Id);
        expectHealthyFast("tv_api", after.tv_api);
        for (const name of SERVICES.filter((s) => s !== "tv_api")) expect(after[name].Id, name).toBe(before[name].Id);
    });
});
