/**
 * A device whose Docker daemon restarts, on its own or with a reboot: every
 * service of the stack runs again without anyone deploying, while a worker
 * that really crashes still stops after its on-failure retries. One device,
 * sim-edge-14; healthchecks are shortened through the stack settings.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, SimDevice, TestStack, checksums, docker, edgeFleet, inspectStack, localConfig, registryDigest, simDevice, stackFilter, waitFor } from "./support";

const STACK = "e2e-reboot";
const DEVICE = "sim-edge-14";
// The default services, all of which must run again after a reboot.
const CORE = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "self_monitor"];
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };
// watchtower runs its own binary as the check: not every 2 s on a shared machine.
const WATCHTOWER = { intervalSeconds: 5, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 5 };
// A device's health timeout (README, "Rollouts"): the slowest container's start
// period + 2 intervals + timeout + 30 s; here watchtower's.
const HEALTH_TIMEOUT = 5 + 2 * 5 + 3 + 30;
// The seed's workers: `on-failure` with at most five retries.
const RETRY_CAP = 5;
const MONITOR_INTERVAL = 5;
// The self-monitor restarts an unhealthy container at most this often per window, then leaves it alone.
const MAX_RESTARTS = 2;

let device: SimDevice;
let stack: TestStack;
let values: Record<string, any>;
let storageRoot: string;
let archives: Record<string, unknown>;

const archiveSums = () => Object.fromEntries(Object.entries(checksums(storageRoot)).filter(([f]) => f.endsWith("e2e-archive.bin")));
const ids = () => Object.fromEntries(Object.entries(inspectStack(device, STACK)).map(([n, c]) => [n, c.Id as string]));
const states = () => Object.fromEntries(Object.entries(inspectStack(device, STACK)).map(([n, c]) => [n, c.State.Health?.Status ?? c.State.Status]));
const allHealthy = () => Object.fromEntries(CORE.map((s) => [s, "healthy"]));
const fault = (kind: string) => execFileSync("bash", [path.join(ROOT, "sim", "device.sh"), "fault", DEVICE, kind], { stdio: "ignore" });

function sorted(m: Record<string, unknown>): string {
    return JSON.stringify(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
}

beforeAll(async () => {
    device = simDevice(DEVICE);
    // The registry is shared: pin the self-monitor built from this tree by
    // digest, so a later push of another build under its tag changes nothing here.
    execFileSync("bash", [path.join(ROOT, "sim", "images", "build.sh")], { stdio: "ignore" });
    const monitorDigest = await registryDigest(device, "self_monitor", "1.0.0");
    values = localConfig([device], "e2e-reboot");
    values.release = { tag: "1.0.0", services: { self_monitor: { digest: monitorDigest } } };
    values.services = Object.fromEntries(CORE.map((s) => [s, { healthcheck: s === "watchtower" ? WATCHTOWER : FAST }]));
    values.selfMonitor = { intervalSeconds: MONITOR_INTERVAL, maxRestarts: MAX_RESTARTS, restartWindowSeconds: 3600 };
    values.stopGraceSeconds = 10;
    storageRoot = values.devices[0].videoStorageRoot;
    stack = TestStack.create(STACK, values, device);
    stack.destroy();
    const left = docker(device, "ps", "-aq", "--filter", stackFilter(STACK)).split(/\s+/).filter(Boolean);
    if (left.length > 0) docker(device, "rm", "-f", ...left);
    const up = stack.up();
    if (up.code !== 0) throw new Error(`initial deploy failed:\n${up.stdout}\n${up.stderr}`);
    // The self-monitor running is the one built from this tree: its start line names the restart cap.
    const start = docker(device, "logs", "self_monitor").split("\n").find((l) => l.includes('"event":"start"')) ?? "";
    if (!start.includes('"maxRestarts"')) throw new Error(`self_monitor runs another build: ${start}`);
    for (const dir of ["input", "processed", "summaries", "loglines", "playlists"]) {
        fs.mkdirSync(path.join(storageRoot, dir), { recursive: true });
        fs.writeFileSync(path.join(storageRoot, dir, "e2e-archive.bin"), randomBytes(64 * 1024));
    }
    archives = archiveSums();
}, 10 * 60_000);

afterAll(() => {
    for (const kind of ["start-dockerd", "start-sshd"]) {
        try {
            fault(kind);
        } catch {
            /* already running */
        }
    }
    stack?.destroy();
});

/** Waits for every container of the stack to be healthy; the seconds it took from `since`. */
async function healthyAgain(since: number): Promise<number> {
    let last: Record<string, unknown> = {};
    try {
        await waitFor(`every container healthy within ${HEALTH_TIMEOUT}s`, HEALTH_TIMEOUT, () => sorted((last = states())) === sorted(allHealthy()), 1);
    } catch (e) {
        throw new Error(`${(e as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: e });
    }
    return (Date.now() - since) / 1000;
}

function expectNothingToDeploy(): void {
    const preview = stack.preview("--expect-no-changes");
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    // drift refreshes from the device first, so a container left stopped shows.
    const drift = edgeFleet("drift", "--stack", STACK, "--config-file", stack.configFile);
    expect(drift.code, drift.stdout + drift.stderr).toBe(0);
}

const monitorLines = (event: string, container: string) =>
    docker(device, "logs", "self_monitor")
        .split("\n")
        .filter((l) => l.includes(`"event":"${event}"`) && l.includes(`"container":"${container}"`))
        .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the self-monitor's restart cap", () => {
    it("restarts a container that stays unhealthy at most maxRestarts times, then says once that it gives up", async () => {
        const worker = "scene_scanner";
        // Sticky: unhealthy again after every restart, as a fault no restart cures.
        docker(device, "exec", worker, "/standin", "fail-health", "--sticky");
        await waitFor(`a give-up line for ${worker}`, 120, () => monitorLines("give-up", worker).length > 0, 1);
        const startedAtGiveUp = JSON.parse(docker(device, "inspect", worker))[0].State.StartedAt as string;
        // Several intervals more: no further restart, no second line.
        await new Promise((r) => setTimeout(r, 4 * MONITOR_INTERVAL * 1000));
        expect(monitorLines("restart", worker)).toHaveLength(MAX_RESTARTS);
        const giveUps = monitorLines("give-up", worker);
        expect(giveUps).toHaveLength(1);
        expect(giveUps[0]).toMatchObject({ container: worker, restarts: MAX_RESTARTS, windowSeconds: 3600 });
        expect(JSON.parse(docker(device, "inspect", worker))[0].State.StartedAt).toBe(startedAtGiveUp);
        docker(device, "exec", worker, "/standin", "heal");
        await healthyAgain(Date.now());
    }, 5 * 60_000);
});

describe("a stack after its device's Docker daemon restarts", () => {
    it("runs every service again, healthy, when dockerd is stopped and started, without a deploy", async () => {
        const before = ids();
        expect(states()).toEqual(allHealthy());
        fault("stop-dockerd");
        fault("start-dockerd");
        const seconds = await healthyAgain(Date.now());
        console.log(`dockerd restart: healthy again after ${seconds}s`);
        expect(ids()).toEqual(before);
        expectNothingToDeploy();
        expect(archiveSums()).toEqual(archives);
    }, 5 * 60_000);

    it("runs every service again, healthy, after a reboot (sshd and dockerd down, then up)", async () => {
        const before = ids();
        fault("stop-sshd");
        fault("stop-dockerd");
        fault("start-dockerd");
        fault("start-sshd");
        const seconds = await healthyAgain(Date.now());
        console.log(`reboot: healthy again after ${seconds}s`);
        expect(ids()).toEqual(before);
        expectNothingToDeploy();
        expect(archiveSums()).toEqual(archives);
    }, 5 * 60_000);

    it("leaves a worker that crashes beyond its on-failure retries stopped", async () => {
        const worker = "logline_writer";
        const inspect = () => JSON.parse(docker(device, "inspect", worker))[0];
        // The first crash and each of the five retries: six crashes in all.
        let crashedAt = 0;
        for (let crash = 0; crash <= RETRY_CAP; crash++) {
            // While Docker waits to restart it, a container is Running and
            // Restarting at once, with the old start time.
            await waitFor(`${worker} running after ${crash} restarts`, 60, () => {
                const s = inspect();
                const started = Date.parse(s.State.StartedAt);
                return s.State.Running && !s.State.Restarting && s.RestartCount === crash && started > crashedAt && Date.now() - started > 1000;
            }, 0.5);
            crashedAt = Date.now();
            docker(device, "exec", worker, "/standin", "crash", "3");
            await waitFor(`${worker} to crash (${crash + 1} of ${RETRY_CAP + 1})`, 30, () => {
                const s = inspect();
                return s.RestartCount > crash || (!s.State.Running && !s.State.Restarting);
            }, 0.25);
        }
        const stoppedAt = inspect().State.FinishedAt as string;
        // Several of the self-monitor's intervals: it must not start the worker again.
        await new Promise((r) => setTimeout(r, 4 * MONITOR_INTERVAL * 1000));
        const s = inspect();
        expect({ status: s.State.Status, exitCode: s.State.ExitCode, restarts: s.RestartCount, finishedAt: s.State.FinishedAt }).toEqual({
            status: "exited",
            exitCode: 3,
            restarts: RETRY_CAP,
            finishedAt: stoppedAt,
        });
        const started = docker(device, "logs", "self_monitor").split("\n").filter((l) => l.includes(`"container":"${worker}"`) && l.includes('"event":"start"'));
        // It was started after each daemon restart above, never after its crashes.
        expect(started).toHaveLength(2);
        expect(archiveSums()).toEqual(archives);
    }, 5 * 60_000);
});
