import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { LABEL_PREFIX, SERVICE_DEFAULTS } from "../../config/defaults";
import { FleetConfig } from "../../config/model";
import { parseFleetConfig } from "../../config/parse";
import { ContainerSpec, deviceNetworks, deviceVolumes, planDevice, storageSubdirs } from "../../plan/containerSpec";
import { orderByDependencies } from "../../plan/order";
import { dockerConfigJson } from "../../plan/registryAuth";
import { ROOT, TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

function fleetOf(hardwareClass: string, extra: Record<string, unknown> = {}): FleetConfig {
    return parseFleetConfig({
        values: {
            hardwareClass,
            registry: { username: "vv-deploy" },
            release: { tag: "2.2.0" },
            devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }],
            sshPrivateKey: TEST_PRIVATE_KEY,
            registryToken: "t",
            ...extra,
        },
        secretKeys: new Set(["sshPrivateKey", "registryToken"]),
    });
}

function specs(hardwareClass = "jetson", extra: Record<string, unknown> = {}): Record<string, ContainerSpec> {
    const fleet = fleetOf(hardwareClass, extra);
    return Object.fromEntries(planDevice(fleet, fleet.devices[0]!, "edge-test").map((s) => [s.service, s]));
}

describe("limits", () => {
    it("gives every service the documented memory and CPUs, scene_summarizer 2g / 1.5 as in the seed", () => {
        const s = specs();
        expect(Object.fromEntries(Object.values(s).map((x) => [x.service, [x.memoryMiB, x.cpus]]))).toEqual({
            agent_dvr: [512, 1],
            scene_scanner: [768, 1],
            scene_summarizer: [2048, 1.5],
            logline_writer: [256, 0.5],
            playlist_manager: [256, 0.5],
            tv_api: [512, 1],
            watchtower: [128, 0.25],
            self_monitor: [64, 0.1],
        });
    });
});

describe("limit labels", () => {
    it("records the limits in a label, so that changing one replaces the container", () => {
        expect(specs().scene_summarizer!.labels[`${LABEL_PREFIX}.limits`]).toBe("memory=2048m cpus=1.5");
    });
});

describe("healthchecks", () => {
    it("uses the seed's tv_api check exactly", () => {
        expect(specs().tv_api!.healthcheck).toEqual({ test: ["CMD", "curl", "-f", "http://localhost:8000/status"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 60 });
    });
    it("uses the seed's playlist_manager check exactly", () => {
        expect(specs().playlist_manager!.healthcheck).toEqual({ test: ["CMD", "find", "/app/heartbeat", "-mmin", "-5"], intervalSeconds: 120, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 0 });
    });
    it("checks scene_scanner's heartbeat", () => {
        expect(specs().scene_scanner!.healthcheck!.test).toEqual(["CMD", "find", "/app/heartbeat", "-mmin", "-5"]);
    });
    it("checks every long-running service and waits long enough for it", () => {
        for (const s of Object.values(specs("x86", { services: { orchestrator: { enabled: true }, prometheus: { enabled: true }, grafana: { enabled: true } } }))) {
            expect(s.healthcheck, s.service).toBeDefined();
            const hc = s.healthcheck!;
            expect(s.healthyWithinSeconds, s.service).toBe(hc.startPeriodSeconds + 2 * hc.intervalSeconds + hc.timeoutSeconds + 30);
        }
    });
    it("takes timing overrides from the stack, then the device, keeping the command", () => {
        const s = specs("jetson", {
            services: { tv_api: { healthcheck: { intervalSeconds: 15, retries: 5 } } },
            devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY, services: { tv_api: { healthcheck: { intervalSeconds: 20 } } } }],
        });
        expect(s.tv_api!.healthcheck).toEqual({ test: ["CMD", "curl", "-f", "http://localhost:8000/status"], intervalSeconds: 20, timeoutSeconds: 10, retries: 5, startPeriodSeconds: 60 });
        expect(s.tv_api!.labels[`${LABEL_PREFIX}.healthcheck`]).not.toBe(specs().tv_api!.labels[`${LABEL_PREFIX}.healthcheck`]);
    });
    it("labels each container with a digest of its healthcheck, so a changed check replaces it", () => {
        const a = specs().tv_api!.labels[`${LABEL_PREFIX}.healthcheck`];
        expect(a).toMatch(/^[0-9a-f]{12}$/);
        expect(specs().playlist_manager!.labels[`${LABEL_PREFIX}.healthcheck`]).not.toBe(a);
    });
});

describe("restart policies", () => {
    it("follows the seed: on-failure with a cap for workers, always for agent_dvr and tv_api, unless-stopped for watchtower", () => {
        const s = specs();
        expect(Object.fromEntries(Object.values(s).map((x) => [x.service, `${x.restart}:${x.maxRetryCount}`]))).toEqual({
            agent_dvr: "always:0",
            scene_scanner: "on-failure:5",
            scene_summarizer: "on-failure:5",
            logline_writer: "on-failure:5",
            playlist_manager: "on-failure:5",
            tv_api: "always:0",
            watchtower: "unless-stopped:0",
            self_monitor: "unless-stopped:0",
        });
    });
});

describe("storage", () => {
    it("mounts storage-root subdirectories, read-only where a service only reads", () => {
        const s = specs("jetson", { videoStorageRoot: "/data/vv" });
        expect(s.scene_scanner!.bindMounts).toEqual([
            { hostPath: "/data/vv/input", containerPath: "/app/input", readOnly: true },
            { hostPath: "/data/vv/processed", containerPath: "/app/processed", readOnly: false },
        ]);
        expect(s.tv_api!.bindMounts).toEqual([{ hostPath: "/data/vv/playlists", containerPath: "/app/playlists", readOnly: true }]);
        const fleet = fleetOf("jetson");
        expect(storageSubdirs(fleet.devices[0]!)).toEqual(["input", "loglines", "playlists", "processed", "summaries"]);
    });
    it("mounts the Docker socket only into watchtower and the self-monitor", () => {
        const withSocket = Object.values(specs()).filter((s) => s.bindMounts.some((m) => m.hostPath === "/var/run/docker.sock")).map((s) => s.service);
        expect(withSocket.sort()).toEqual(["self_monitor", "watchtower"]);
    });
    it("gives prometheus and grafana named volumes only when monitoring is on", () => {
        expect(deviceVolumes(fleetOf("x86").devices[0]!)).toEqual([]);
        const fleet = fleetOf("x86", { services: { prometheus: { enabled: true }, grafana: { enabled: true } } });
        expect(deviceVolumes(fleet.devices[0]!)).toEqual(["grafana_data", "prometheus_data"]);
    });
});

describe("networks and ports", () => {
    it("joins services to named bridges with their service names as aliases", () => {
        const s = specs();
        expect(s.tv_api!.networks).toEqual([{ network: "backend", name: "vv_backend", aliases: ["tv_api", "tv-api"] }]);
        expect(s.watchtower!.networks).toEqual([{ network: "control", name: "vv_control", aliases: ["watchtower"] }]);
        expect(deviceNetworks(fleetOf("jetson").devices[0]!)).toEqual(["backend", "control"]);
    });
    it("publishes only tv_api and grafana", () => {
        const s = specs("x86", { services: { prometheus: { enabled: true }, grafana: { enabled: true } } });
        const published = Object.values(s).filter((x) => x.ports.length > 0).map((x) => [x.service, x.ports]);
        expect(published).toEqual([
            ["tv_api", [{ internal: 8000, external: 8000, address: "0.0.0.0" }]],
            ["grafana", [{ internal: 3000, external: 3000, address: "127.0.0.1" }]],
        ]);
    });
});

describe("GPU per hardware class", () => {
    it.each([
        ["jetson", "nvidia-runtime"],
        ["x86", "device-request"],
        ["cpu", "none"],
    ])("%s gives scene_summarizer %s and nothing to other services", (cls, mode) => {
        const s = specs(cls);
        expect(s.scene_summarizer!.gpu).toBe(mode);
        expect(Object.values(s).filter((x) => x.service !== "scene_summarizer").every((x) => x.gpu === "none")).toBe(true);
    });
});

describe("logging, hardening, labels", () => {
    it("rotates json-file logs at 10m x 3 by default and follows the stack's settings", () => {
        expect(specs().tv_api!.logOptions).toEqual({ "max-size": "10m", "max-file": "3" });
        expect(specs("jetson", { logging: { maxSizeMiB: 50, maxFiles: 5 } }).tv_api!.logOptions).toEqual({ "max-size": "50m", "max-file": "5" });
    });
    it("sets no-new-privileges everywhere", () => {
        for (const s of Object.values(specs())) expect(s.securityOptions).toEqual(["no-new-privileges:true"]);
    });
    it("uses the label names the self-monitor reads", () => {
        const monitor = fs.readFileSync(path.join(ROOT, "images", "self-monitor", "monitor.go"), "utf8");
        expect(monitor).toMatch(new RegExp(`StackLabel\\s*=\\s*"${LABEL_PREFIX}\\.stack"`));
        expect(Object.keys(specs().tv_api!.labels)).toContain(`${LABEL_PREFIX}.stack`);
    });
    it("labels only the watched services for watchtower", () => {
        const enabled = Object.values(specs()).filter((s) => s.labels["com.centurylinklabs.watchtower.enable"] === "true").map((s) => s.service);
        expect(enabled).toEqual(["agent_dvr", "scene_scanner", "scene_summarizer"]);
    });
});

describe("watchtower and self-monitor", () => {
    it("scopes watchtower by name and label, interval 300, cleanup, include-stopped, credentials from a file", () => {
        const w = specs().watchtower!;
        expect(w.command).toEqual(["agent_dvr", "scene_scanner", "scene_summarizer"]);
        expect(w.environment).toMatchObject({
            WATCHTOWER_POLL_INTERVAL: "300",
            WATCHTOWER_CLEANUP: "true",
            WATCHTOWER_INCLUDE_STOPPED: "true",
            WATCHTOWER_LABEL_ENABLE: "true",
            WATCHTOWER_MONITOR_ONLY: "true",
            DOCKER_CONFIG: "/config",
            // Engine 29 refuses watchtower's own default, API 1.25.
            DOCKER_API_VERSION: "1.40",
        });
        expect(Object.keys(w.environment).filter((k) => /REPO_|PASS|TOKEN/.test(k))).toEqual([]);
        expect(w.needsRegistryCredentials).toBe(true);
    });
    it("tells the self-monitor which stack's containers it may restart", () => {
        expect(specs().self_monitor!.environment).toMatchObject({
            SELF_MONITOR_STACK: "edge-test",
            SELF_MONITOR_INTERVAL_SECONDS: "30",
            SELF_MONITOR_MAX_RESTARTS: "3",
            SELF_MONITOR_RESTART_WINDOW_SECONDS: "3600",
        });
        expect(specs("jetson", { selfMonitor: { maxRestarts: 5, restartWindowSeconds: 900 } }).self_monitor!.environment).toMatchObject({
            SELF_MONITOR_MAX_RESTARTS: "5",
            SELF_MONITOR_RESTART_WINDOW_SECONDS: "900",
        });
    });
    it("lets the stack file choose watchtower's Docker API version", () => {
        const s = specs("jetson", { services: { watchtower: { environment: { DOCKER_API_VERSION: "1.44" } } } });
        expect(s.watchtower!.environment.DOCKER_API_VERSION).toBe("1.44");
    });
    it("keeps watchtower's scope and the self-monitor's stack even when the stack file sets them", () => {
        const s = specs("jetson", {
            environment: { WATCHTOWER_LABEL_ENABLE: "false", SELF_MONITOR_STACK: "other" },
            services: { watchtower: { environment: { WATCHTOWER_MONITOR_ONLY: "false" } } },
        });
        expect(s.watchtower!.environment).toMatchObject({ WATCHTOWER_LABEL_ENABLE: "true", WATCHTOWER_MONITOR_ONLY: "true" });
        expect(s.self_monitor!.environment.SELF_MONITOR_STACK).toBe("edge-test");
    });
    it("passes orchestrator.intervalSeconds as ORCHESTRATOR_INTERVAL; the orchestrator's own environment wins", () => {
        const on = { orchestrator: { enabled: true } };
        expect(specs("jetson", { services: on }).orchestrator!.environment.ORCHESTRATOR_INTERVAL).toBe("300");
        expect(specs("jetson", { services: on, orchestrator: { intervalSeconds: 120 } }).orchestrator!.environment.ORCHESTRATOR_INTERVAL).toBe("120");
        expect(specs("jetson", { services: on, environment: { ORCHESTRATOR_INTERVAL: "9" } }).orchestrator!.environment.ORCHESTRATOR_INTERVAL).toBe("300");
        const own = { orchestrator: { enabled: true, environment: { ORCHESTRATOR_INTERVAL: 60 } } };
        expect(specs("jetson", { services: own, orchestrator: { intervalSeconds: 120 } }).orchestrator!.environment.ORCHESTRATOR_INTERVAL).toBe("60");
    });
    it("gives scene_summarizer the NVIDIA variables on GPU classes unless the stack sets them", () => {
        expect(specs("jetson").scene_summarizer!.environment).toMatchObject({ NVIDIA_VISIBLE_DEVICES: "all", NVIDIA_DRIVER_CAPABILITIES: "compute,utility,video" });
        expect(specs("x86", { services: { scene_summarizer: { environment: { NVIDIA_VISIBLE_DEVICES: "0" } } } }).scene_summarizer!.environment.NVIDIA_VISIBLE_DEVICES).toBe("0");
        expect(specs("cpu").scene_summarizer!.environment.NVIDIA_VISIBLE_DEVICES).toBeUndefined();
    });
    it("writes registry credentials as a Docker config.json", () => {
        expect(JSON.parse(dockerConfigJson("ghcr.io", "u", "p"))).toEqual({ auths: { "ghcr.io": { auth: Buffer.from("u:p").toString("base64") } } });
    });
});

describe("startup order", () => {
    it("creates dependencies first and drops dependencies on disabled services", () => {
        const all = specs("x86", { services: { orchestrator: { enabled: true }, prometheus: { enabled: true }, grafana: { enabled: true } } });
        const order = orderByDependencies(Object.values(all)).map((s) => s.service);
        for (const s of Object.values(all)) for (const d of s.dependsOn) expect(order.indexOf(d), `${d} before ${s.service}`).toBeLessThan(order.indexOf(s.service));
        expect(all.grafana!.dependsOn).toEqual(["prometheus"]);
        expect(all.orchestrator!.dependsOn).toEqual(["scene_scanner", "scene_summarizer", "logline_writer"]);
        const noPrometheus = specs("jetson", { services: { grafana: { enabled: true } } });
        expect(noPrometheus.grafana!.dependsOn).toEqual([]);
    });
    // Issue: "Gate only on what must be ready"; the seed's compose file has no depends_on.
    it("starts the core services together: none waits for another to be healthy", () => {
        const core = specs("jetson");
        expect(Object.fromEntries(Object.values(core).map((s) => [s.service, s.dependsOn]))).toEqual(
            Object.fromEntries(["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "self_monitor"].map((n) => [n, []])),
        );
    });
    it("declares the container first checked latest first: the seed's playlist_manager (120 s), then the rest as given", () => {
        const core = Object.values(specs("jetson"));
        const order = orderByDependencies(core).map((s) => s.service);
        expect(order[0]).toBe("playlist_manager");
        expect(core.find((s) => s.service === "playlist_manager")!.healthcheck!.intervalSeconds).toBe(120);
        const intervals = orderByDependencies(core).map((s) => s.healthcheck?.intervalSeconds ?? 0);
        expect(intervals).toEqual([...intervals].sort((a, b) => b - a));
        const sameInterval = core.filter((s) => (s.healthcheck?.intervalSeconds ?? 0) === 30).map((s) => s.service);
        expect(order.filter((n) => sameInterval.includes(n))).toEqual(sameInterval);
    });
    it("has no cycles in the defaults table", () => {
        const names = Object.keys(SERVICE_DEFAULTS) as (keyof typeof SERVICE_DEFAULTS)[];
        const fake = names.map((n) => ({ service: n, dependsOn: SERVICE_DEFAULTS[n].dependsOn }) as unknown as ContainerSpec);
        expect(orderByDependencies(fake)).toHaveLength(names.length);
    });
});

describe("images", () => {
    it("pulls by tag, or by digest when one is given", () => {
        const s = specs("jetson", { release: { tag: "2.2.0", services: { tv_api: { digest: `sha256:${"b".repeat(64)}` } } } });
        expect(s.agent_dvr!.imageReference).toBe("ghcr.io/vv-video-ai/agent_dvr:2.2.0");
        expect(s.tv_api!.imageReference).toBe(`ghcr.io/vv-video-ai/tv_api@sha256:${"b".repeat(64)}`);
    });
});

describe("settings read back from the state", () => {
    it("plan the same containers as the settings they were recorded from", async () => {
        const { parseFleetConfig } = await import("../../config/parse");
        const { planDevice } = await import("../../plan/containerSpec");
        const { TEST_HOST_KEY, TEST_PRIVATE_KEY } = await import("./harness");
        const fleet = parseFleetConfig({
            values: {
                hardwareClass: "cpu",
                registry: { username: "u" },
                release: { tag: "1.0.0" },
                devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }],
                services: { tv_api: { healthcheck: { intervalSeconds: 5 } } },
                sshPrivateKey: TEST_PRIVATE_KEY,
                registryToken: "t",
            },
            secretKeys: new Set(["sshPrivateKey", "registryToken"]),
        });
        // The checkpoint stores objects with their keys sorted.
        const sortDeep = (v: unknown): unknown =>
            Array.isArray(v) ? v.map(sortDeep) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortDeep(x)])) : v;
        const roundTripped = sortDeep(JSON.parse(JSON.stringify(fleet))) as typeof fleet;
        expect(planDevice(roundTripped, roundTripped.devices[0]!, "s")).toEqual(planDevice(fleet, fleet.devices[0]!, "s"));
    });
});

// Issue: "Healthy in seconds": Docker 25+ checks every start_interval during the start period.
describe("fast healthchecks while a container starts", () => {
    it("are off by default: the seed's checks exactly, and no start interval", () => {
        const all = specs("jetson");
        expect(all.playlist_manager!.healthcheck).toEqual({ test: ["CMD", "find", "/app/heartbeat", "-mmin", "-5"], intervalSeconds: 120, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 0 });
        for (const s of Object.values(all)) expect(s.healthcheck?.startIntervalSeconds, s.service).toBeUndefined();
    });

    it("healthcheckStartIntervalSeconds gives every check the start interval and a start period of at least one interval", () => {
        const all = specs("jetson", { healthcheckStartIntervalSeconds: 1 });
        expect(all.playlist_manager!.healthcheck).toMatchObject({ intervalSeconds: 120, startPeriodSeconds: 120, startIntervalSeconds: 1 });
        expect(all.tv_api!.healthcheck).toMatchObject({ intervalSeconds: 30, startPeriodSeconds: 60, startIntervalSeconds: 1 });
        expect(all.agent_dvr!.healthcheck).toMatchObject({ intervalSeconds: 30, startPeriodSeconds: 30, startIntervalSeconds: 1 });
    });

    it("a service's own start interval wins over the stack's, and its settings are left as given", () => {
        const all = specs("jetson", { healthcheckStartIntervalSeconds: 1, services: { tv_api: { healthcheck: { startIntervalSeconds: 5, startPeriodSeconds: 20 } } } });
        expect(all.tv_api!.healthcheck).toMatchObject({ intervalSeconds: 30, startPeriodSeconds: 20, startIntervalSeconds: 5 });
    });

    it("changes the healthcheck label only when set, so containers deployed before keep theirs", () => {
        const before = specs("jetson").tv_api!.labels["edge-fleet.healthcheck"];
        expect(before).toMatch(/^[0-9a-f]{12}$/);
        expect(specs("jetson", { services: { tv_api: { healthcheck: { startPeriodSeconds: 60 } } } }).tv_api!.labels["edge-fleet.healthcheck"]).toBe(before);
        expect(specs("jetson", { services: { tv_api: { healthcheck: { startIntervalSeconds: 2 } } } }).tv_api!.labels["edge-fleet.healthcheck"]).not.toBe(before);
    });

    it("refuses a stack start interval out of range, naming the value", () => {
        expect(() => specs("jetson", { healthcheckStartIntervalSeconds: 0 })).toThrow(/healthcheckStartIntervalSeconds: must be at least 1 second.*0/s);
        expect(() => specs("jetson", { healthcheckStartIntervalSeconds: 90 })).toThrow(/healthcheckStartIntervalSeconds: must be at most 60 seconds/);
    });
});
