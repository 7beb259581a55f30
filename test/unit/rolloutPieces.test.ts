import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../config/parse";
import { planDevice } from "../../plan/containerSpec";
import { parseRepoDigest, rollbackSnapshot, snapshotOf } from "../../plan/deviceSnapshot";
import { engineMessage, violationText } from "../../rollout/deviceOps";
import { classifySshFailure } from "../../rollout/deviceShell";
import { ContainerState, changedDuringSoak, judge } from "../../rollout/health";
import { FileKeyStore } from "../../backend";
import { RecordStore, RolloutRecord } from "../../rollout/records";
import { deviceOfUrn, deployedDevice, orphansOf, stateContainers } from "../../rollout/state";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

const c = (name: string, over: Partial<ContainerState> = {}): ContainerState => ({
    name, id: `${name}-1`, running: true, status: "running", health: "healthy", restartCount: 0, startedAt: "t0", image: `${name}:1`, labels: {}, ...over,
});

describe("the health gate's judgement", () => {
    it("names missing, stopped, starting and unhealthy containers with the last health output", () => {
        const problems = judge(["a", "b", "c", "d", "e"], [
            c("a"),
            c("b", { running: false, status: "exited" }),
            c("c", { health: "starting" }),
            c("d", { health: "unhealthy", lastHealthOutput: "curl: (22) 503" }),
        ]);
        expect(problems).toEqual([
            { service: "b", state: "exited" },
            { service: "c", state: "starting" },
            { service: "d", state: "unhealthy", healthOutput: "curl: (22) 503" },
            { service: "e", state: "missing" },
        ]);
        expect(judge(["a"], [c("a", { health: undefined })])).toEqual([]);
    });

    it("fails the soak on a restart or a replacement, not on a healthy steady state", () => {
        const before = [c("a"), c("b"), c("x")];
        expect(changedDuringSoak(before, [c("a"), c("b")])).toEqual([]);
        expect(changedDuringSoak(before, [c("a", { restartCount: 1, startedAt: "t1" }), c("b", { id: "b-2" })])).toEqual([
            { service: "a", state: "restarted during the soak period" },
            { service: "b", state: "replaced during the soak period" },
        ]);
    });
});

describe("reading the state", () => {
    const devices = ["edge-1", "edge-10", "edge-1-b"];
    it("tells which device a resource belongs to by the longest matching name", () => {
        const urn = (name: string) => `urn:pulumi:s::edge-fleet::edge-fleet:device:EdgeDevice$docker:index/container:Container::${name}`;
        expect(deviceOfUrn(urn("edge-1-tv_api"), devices)).toBe("edge-1");
        expect(deviceOfUrn(urn("edge-10-tv_api"), devices)).toBe("edge-10");
        expect(deviceOfUrn(urn("edge-1-b-tv_api"), devices)).toBe("edge-1-b");
        expect(deviceOfUrn(urn("edge-1"), devices)).toBe("edge-1");
        expect(deviceOfUrn(urn("other-tv_api"), devices)).toBeUndefined();
    });

    it("lists a device's containers and what it was deployed with", () => {
        const cp = {
            resources: [
                { urn: "u::edge-fleet:device:EdgeDevice::edge-1", type: "edge-fleet:device:EdgeDevice", outputs: { settings: { fleet: { devices: [{ name: "edge-1" }] } }, imageDigests: { tv_api: "r/tv_api@sha256:aa" } } },
                { urn: "u::x::edge-1-tv_api", type: "docker:index/container:Container", id: "c1", outputs: { name: "tv_api" } },
                { urn: "u::x::edge-1-old", type: "docker:index/container:Container", id: "c0", outputs: { name: "tv_api" }, delete: true },
                { urn: "u::x::edge-10-tv_api", type: "docker:index/container:Container", id: "c2", outputs: { name: "tv_api" } },
            ],
        };
        expect(stateContainers(cp, "edge-1", devices)).toEqual([{ urn: "u::x::edge-1-tv_api", name: "tv_api", id: "c1" }]);
        expect(deployedDevice(cp, "edge-1")?.imageDigests).toEqual({ tv_api: "r/tv_api@sha256:aa" });
        expect(deployedDevice(cp, "edge-10")).toBeUndefined();
    });

    it("takes for left behind only what neither the state nor a run in progress names", () => {
        const container = (id: string, name: string, device = "edge-1") => ({ id, name, labels: { "edge-fleet.device": device } });
        const seen = {
            containers: [
                container("c1", "tv_api"),
                container("c9", "scene_scanner"),
                // A `pulumi up` run by hand is creating this one: its pending operation is in the state.
                container("c7", "playlist_manager"),
                container("c8", "agent_dvr", "edge-10"),
            ],
            networks: [
                { id: "n1", name: "edge_net" },
                { id: "n9", name: "media_net" },
                { id: "n7", name: "monitor_net" },
            ],
        };
        const cp = {
            resources: [
                { urn: "u::x::edge-1-tv_api", type: "docker:index/container:Container", id: "c1", outputs: { name: "tv_api" } },
                { urn: "u::x::edge-1-edge_net", type: "docker:index/network:Network", id: "n1", outputs: { name: "edge_net" } },
            ],
            pending_operations: [
                { type: "creating", resource: { urn: "u::x::edge-1-playlist_manager", type: "docker:index/container:Container", inputs: { name: "playlist_manager" } } },
                { type: "creating", resource: { urn: "u::x::edge-1-monitor_net", type: "docker:index/network:Network", inputs: { name: "monitor_net" } } },
                // Another device's operation does not cover this device's container of the same name.
                { type: "creating", resource: { urn: "u::x::edge-10-scene_scanner", type: "docker:index/container:Container", inputs: { name: "scene_scanner" } } },
            ],
        };
        expect(orphansOf(seen, cp, "edge-1", devices)).toEqual({ containers: [container("c9", "scene_scanner")], networks: [{ id: "n9", name: "media_net" }] });
    });
});

describe("rollback settings", () => {
    const values = (tvTag: string, memory?: number) => ({
        hardwareClass: "cpu",
        registry: { username: "u", server: "reg:5000" },
        release: { tag: "1.0.0", services: { tv_api: { tag: tvTag } } },
        devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }],
        ...(memory ? { services: { logline_writer: { memoryMiB: memory } } } : {}),
        sshPrivateKey: TEST_PRIVATE_KEY,
        registryToken: "t",
    });
    const parse = (v: Record<string, unknown>) => parseFleetConfig({ values: v, secretKeys: new Set(["sshPrivateKey", "registryToken"]) });
    const digest = `sha256:${"c".repeat(64)}`;

    it("pins the services the release changed to the digests the device ran, and keeps the others as they were", () => {
        const old = parse(values("1.0.0", 300));
        const next = parse(values("1.1.0"));
        const recorded = snapshotOf(old, old.devices[0]!);
        const back = rollbackSnapshot(recorded, { tv_api: `reg:5000/vv-video-ai/tv_api@${digest}`, agent_dvr: `reg:5000/vv-video-ai/agent_dvr@${digest}` }, next.devices[0]);
        const specs = Object.fromEntries(planDevice(back.fleet, back.fleet.devices[0]!, "s").map((s) => [s.service, s]));
        const before = Object.fromEntries(planDevice(old, old.devices[0]!, "s").map((s) => [s.service, s]));
        expect(specs.tv_api!.imageReference).toBe(`reg:5000/vv-video-ai/tv_api@${digest}`);
        expect(specs.agent_dvr).toEqual(before.agent_dvr);
        expect(specs.logline_writer!.memoryMiB).toBe(300);
        expect(parseRepoDigest("reg/x:1.0.0")).toBeUndefined();
    });
});

describe("engine messages and ssh failures", () => {
    it("strips the engine's wrapping down to the resource and the provider's words", () => {
        expect(engineMessage("1 error occurred:\n\t* creating urn:pulumi:s::edge-fleet::a$b::dev-1-tv_api: 1 error occurred:\n\t* container failed to be in healthy state")).toBe(
            "creating dev-1-tv_api: container failed to be in healthy state",
        );
    });

    it("classifies why a device could not be reached", () => {
        expect(classifySshFailure("Host key verification failed.")).toBe("host key mismatch");
        expect(classifySshFailure("ssh: connect to host 10.0.0.1 port 22: Connection refused")).toBe("connection refused");
        expect(classifySshFailure("ssh: connect to host 10.0.0.1 port 22: Connection timed out")).toBe("timed out");
        expect(classifySshFailure("edge@10.0.0.1: Permission denied (publickey).")).toBe("authentication refused");
    });
});

describe("rollout records", () => {
    const record = (id: string, status: RolloutRecord["status"], pid = 999_999_999): RolloutRecord => ({
        id, stack: "s", target: "t", release: {}, waves: [], status, startedAt: id, runner: { host: os.hostname(), pid }, devices: {}, beforeSettings: {},
    });

    it("keeps records beside a file backend's state and finds the unfinished newest one", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "records-"));
        const store = await RecordStore.open(new FileKeyStore(dir, true), "s");
        expect(store.shared).toBe(true);
        store.save(record("20260101T000000Z-a", "succeeded"));
        expect(store.unfinished()).toBeUndefined();
        store.save(record("20260102T000000Z-b", "running"));
        expect(store.unfinished()?.id).toBe("20260102T000000Z-b");
        expect(store.list().map((r) => r.id)).toEqual(["20260102T000000Z-b", "20260101T000000Z-a"]);
        await store.close();
        const files = fs.readdirSync(path.join(dir, ".edge-fleet", "rollouts", "s"));
        expect(files.sort()).toEqual(["20260101T000000Z-a.json", "20260102T000000Z-b.json"]);
    });

    it("reads back what an earlier run wrote: records newest first and each device's last good settings", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "records-"));
        const first = await RecordStore.open(new FileKeyStore(dir, true), "s");
        first.save(record("20260101T000000Z-a", "succeeded"));
        first.save(record("20260103T000000Z-c", "failed"));
        first.save(record("20260102T000000Z-b", "rolled back"));
        const good = { settings: {} as never, imageDigests: { tv_api: "r/tv_api@sha256:1" }, rollout: "20260101T000000Z-a", at: "2026-01-01T00:00:00Z" };
        first.saveLastGood("dev-01", good);
        await first.close();
        const again = await RecordStore.open(new FileKeyStore(dir, true), "s");
        expect(again.list().map((r) => r.id)).toEqual(["20260103T000000Z-c", "20260102T000000Z-b", "20260101T000000Z-a"]);
        expect(again.lastGood("dev-01")).toEqual(good);
        expect(again.lastGood("dev-02")).toBeUndefined();
        // Another stack's records are not this stack's.
        expect((await RecordStore.open(new FileKeyStore(dir, true), "other")).list()).toEqual([]);
    });

    it("reports a write that failed when it is flushed", async () => {
        const failing = {
            where: "nowhere",
            shared: true,
            get: () => Promise.resolve(undefined),
            list: () => Promise.resolve([]),
            close: () => Promise.resolve(),
            put: () => Promise.reject(new Error("disk full")),
        };
        const store = await RecordStore.open(failing, "s");
        store.save(record("20260101T000000Z-a", "running"));
        await expect(store.flush()).rejects.toThrow("disk full");
    });
});

describe("trusting recorded settings", () => {
    it("only where the state's containers of the device agree with them", async () => {
        const { settingsMatchState } = await import("../../rollout/state");
        const fleet = parseFleetConfig({
            values: {
                hardwareClass: "cpu", registry: { username: "u" }, release: { tag: "1.0.0" },
                devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }],
                sshPrivateKey: TEST_PRIVATE_KEY, registryToken: "t",
            },
            secretKeys: new Set(["sshPrivateKey", "registryToken"]),
        });
        const settings = snapshotOf(fleet, fleet.devices[0]!);
        const containers = planDevice(fleet, fleet.devices[0]!, "s").map((spec) => ({
            urn: `urn:pulumi:s::edge-fleet::a$docker:index/container:Container::dev-01-${spec.service}`,
            type: "docker:index/container:Container",
            id: spec.service,
            inputs: {
                image: spec.imageReference,
                envs: Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`),
                labels: Object.entries(spec.labels).map(([label, value]) => ({ label, value })),
            },
        }));
        expect(settingsMatchState(settings, { resources: containers }, "dev-01", ["dev-01"], "s")).toBe(true);
        const changed = containers.map((c) => (c.id === "tv_api" ? { ...c, inputs: { ...c.inputs, image: "x/tv_api:1.1.0" } } : c));
        expect(settingsMatchState(settings, { resources: changed }, "dev-01", ["dev-01"], "s")).toBe(false);
        expect(settingsMatchState(settings, { resources: containers.slice(1) }, "dev-01", ["dev-01"], "s")).toBe(false);
    });
});

describe("CLI errors", () => {
    it("are shown by the CLI's own error line, not the wrapper's", async () => {
        const { firstLine } = await import("../../rollout/pulumiStack");
        expect(firstLine(new Error("code: -2\n stdout: \n stderr: error: no stack named 'nope' found\n"))).toBe("no stack named 'nope' found");
        expect(firstLine(new Error("plain failure\nmore"))).toBe("plain failure");
    });
});

describe("a policy violation in the rollout's report", () => {
    it("names the rule and what is wrong, without the rule's description", () => {
        const event = { policyName: "log-rotation", message: "Every container rotates its logs.\ntv_api on dev-1 logs with journald, not json-file", enforcementLevel: "mandatory" };
        expect(violationText(event as never)).toBe("log-rotation: tv_api on dev-1 logs with journald, not json-file");
    });
});

describe("a stack locked by another deployment", () => {
    const lockError = (host: string, pid: number) =>
        new Error(
            "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
                `  postgres://db/edge_fleet/.pulumi/locks/organization/edge-fleet/s/a.json: created by ops@${host} (pid ${pid}) at 2026-11-26T20:00:00Z\n` +
                // The Automation API repeats the CLI's stderr in its error.
                `stderr: created by ops@${host} (pid ${pid}) at 2026-11-26T20:00:00Z`,
        );

    it("stops the run with who holds the lock, named once, and leaves the lock alone", async () => {
        const { StackLockedError, withStaleLockRecovery } = await import("../../rollout/pulumiStack");
        let cancelled = false;
        const s = { name: "s", stack: { cancel: () => ((cancelled = true), Promise.resolve()) } } as never;
        const run = withStaleLockRecovery(s, () => Promise.reject(lockError("other-host", 4242)));
        await expect(run).rejects.toBeInstanceOf(StackLockedError);
        await expect(run).rejects.toThrow(/^stack s is locked by a running deployment \(pid 4242 on other-host\); wait for it/);
        expect(cancelled).toBe(false);
    });

    it("removes a lock left by a process of this machine that is gone, and runs again", async () => {
        const { withStaleLockRecovery } = await import("../../rollout/pulumiStack");
        let cancelled = false;
        let attempts = 0;
        const s = { name: "s", stack: { cancel: () => ((cancelled = true), Promise.resolve()) } } as never;
        const result = await withStaleLockRecovery(s, () => (++attempts === 1 ? Promise.reject(lockError(os.hostname(), 999_999_999)) : Promise.resolve("done")));
        expect(result).toBe("done");
        expect(cancelled).toBe(true);
    });
});
