/**
 * One stack through its life on a simulated device: deploy, no-op, a release
 * change, a limit and a healthcheck change, self-healing, destroy and redeploy
 * on the same data. Steps run in order and build on each other.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_CONTAINERS } from "./seedTable";
import { ROOT, SimDevice, TRANSCRIPT, TestStack, checksums, docker, inspectStack, localConfig, prefixSha256, simDevice, stackFilter, waitFor } from "./support";

const STACK = "e2e-lifecycle";
let device: SimDevice;
let stack: TestStack;
let values: Record<string, any>;
let storageRoot: string;
let token: string;

const ns = (seconds: number) => seconds * 1e9;
const idsAndStarts = (inspected: Record<string, any>) =>
    Object.fromEntries(Object.entries(inspected).map(([n, c]) => [n, `${c.Id} ${c.State.StartedAt}`]));

beforeAll(() => {
    device = simDevice("sim-edge-02");
    token = fs.readFileSync(device.registry.passwordFile, "utf8").trim();
    values = localConfig([device], "e2e-lifecycle");
    values.services = { orchestrator: { enabled: true }, prometheus: { enabled: true }, grafana: { enabled: true } };
    storageRoot = values.devices[0].videoStorageRoot;
    stack = TestStack.create(STACK, values, device);
    // A stack left over from an interrupted run starts from nothing.
    stack.destroy();
    const leftovers = docker(device, "ps", "-aq", "--filter", stackFilter(STACK)).split(/\s+/).filter(Boolean);
    if (leftovers.length > 0) docker(device, "rm", "-f", ...leftovers);
    // The named volumes outlive a destroy on purpose; the survival check
    // below must start from fresh ones, not from an earlier run's.
    const volumes = docker(device, "volume", "ls", "-q").split(/\s+/).filter((v) => v === "grafana_data" || v === "prometheus_data");
    if (volumes.length > 0) docker(device, "volume", "rm", ...volumes);
});

afterAll(() => {
    stack?.destroy();
});

describe("a stack on a simulated device", () => {
    it("deploys every service as the seed and the README declare it, healthy, with tv_api reachable", async () => {
        const up = stack.up();
        expect(up.code, up.stdout + up.stderr).toBe(0);
        const outputs = stack.outputs();
        const mine = (outputs.deviceOutputs as any[]).find((d) => d.device === device.name);
        const inspected = inspectStack(device, STACK);
        expect(Object.keys(inspected).sort()).toEqual(Object.keys(SEED_CONTAINERS).sort());
        const registry = `${device.registry.server}/vv-video-ai`;

        for (const [name, want] of Object.entries(SEED_CONTAINERS)) {
            const c = inspected[name]!;
            const why = name;
            expect(c.Config.Image, why).toBe(`${registry}/${name}:1.0.0`);
            const image = JSON.parse(docker(device, "image", "inspect", c.Image))[0];
            expect(image.RepoDigests, why).toContain(mine.imageDigests[name]);
            expect(c.HostConfig.Memory, why).toBe(want.memoryMiB * 1024 * 1024);
            expect(c.HostConfig.MemorySwap, why).toBe(want.memoryMiB * 1024 * 1024);
            expect(c.HostConfig.NanoCpus, why).toBe(Math.round(want.cpus * 1e9));
            expect(c.HostConfig.RestartPolicy, why).toEqual(want.restart);
            expect(c.Config.Healthcheck, why).toEqual({
                Test: want.test,
                Interval: ns(want.intervalSeconds),
                Timeout: ns(want.timeoutSeconds),
                Retries: want.retries,
                ...(want.startPeriodSeconds > 0 ? { StartPeriod: ns(want.startPeriodSeconds) } : {}),
            });
            const binds = Object.fromEntries((c.Mounts as any[]).filter((m) => m.Type === "bind").map((m) => [m.Destination, [m.Source, !m.RW]]));
            const wantBinds = Object.fromEntries(
                Object.entries(want.binds).map(([to, [from, ro]]) => [to, [from.startsWith("/") ? from : path.join(storageRoot, from), ro]]),
            );
            expect(binds, why).toEqual(wantBinds);
            const vols = Object.fromEntries((c.Mounts as any[]).filter((m) => m.Type === "volume").map((m) => [m.Destination, m.Name]));
            expect(vols, why).toEqual(want.volumes);
            expect(Object.keys(c.NetworkSettings.Networks).sort(), why).toEqual([...want.networks].sort());
            const aliases = name.includes("_") ? [name, name.replace(/_/g, "-")] : [name];
            for (const n of want.networks) expect(c.NetworkSettings.Networks[n].Aliases, why).toEqual(expect.arrayContaining(aliases));
            const ports = Object.fromEntries(Object.entries(c.HostConfig.PortBindings ?? {}).map(([p, b]) => [p, (b as any[]).map((x) => x.HostPort).join(",")]));
            expect(ports, why).toEqual(want.ports);
            expect(c.HostConfig.LogConfig, why).toEqual({ Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } });
            // Exactly what the stack sets: the container's environment and labels minus the image's own.
            const imageEnv = new Set<string>(image.Config.Env ?? []);
            expect((c.Config.Env as string[]).filter((e) => !imageEnv.has(e)).sort(), why).toEqual([...want.env].sort());
            const imageLabels = image.Config.Labels ?? {};
            const labels = Object.fromEntries(Object.entries(c.Config.Labels as Record<string, string>).filter(([k, v]) => imageLabels[k] !== v));
            expect(labels, why).toEqual({
                "com.centurylinklabs.watchtower.enable": String(want.watched),
                "edge-fleet.stack": STACK,
                "edge-fleet.device": device.name,
                "edge-fleet.service": name,
                "edge-fleet.image": `${registry}/${name}:1.0.0`,
                "edge-fleet.limits": `memory=${want.memoryMiB}m cpus=${want.cpus}`,
                "edge-fleet.healthcheck": expect.stringMatching(/^[0-9a-f]{12}$/),
            });
            expect(c.HostConfig.Privileged, why).toBe(false);
            expect(c.HostConfig.SecurityOpt, why).toEqual(["no-new-privileges:true"]);
            expect(c.State.Health.Status, why).toBe("healthy");
        }

        const res = await fetch(mine.tvApiUrl);
        expect(res.status).toBe(200);
    });

    it("changes nothing on a second run", () => {
        const before = idsAndStarts(inspectStack(device, STACK));
        const preview = stack.preview("--expect-no-changes");
        expect(preview.code, preview.stdout + preview.stderr).toBe(0);
        const up = stack.up("--expect-no-changes");
        expect(up.code, up.stdout + up.stderr).toBe(0);
        expect(idsAndStarts(inspectStack(device, STACK))).toEqual(before);
    });

    it("replaces exactly the container whose release changed", () => {
        const before = idsAndStarts(inspectStack(device, STACK));
        values.release = { ...values.release, services: { tv_api: { tag: "1.1.0" } } };
        stack.setConfig(values);
        const planned = stack.plannedSteps().map((s) => `${s.op} ${s.urn.split("::").pop()}`);
        expect(planned.sort()).toEqual(["replace sim-edge-02-tv_api", "replace sim-edge-02-tv_api-image"]);
        const up = stack.up();
        expect(up.code, up.stdout + up.stderr).toBe(0);
        const after = inspectStack(device, STACK);
        expect(after.tv_api.Config.Image).toMatch(/tv_api:1\.1\.0$/);
        const changed = Object.keys(before).filter((n) => before[n] !== idsAndStarts(after)[n]);
        expect(changed).toEqual(["tv_api"]);
    });

    it("shows a limit and a healthcheck change in preview and lands them on the device", () => {
        values.services = {
            ...values.services,
            logline_writer: { memoryMiB: 320, healthcheck: { intervalSeconds: 20 } },
        };
        stack.setConfig(values);
        const preview = stack.preview("--diff");
        expect(preview.code, preview.stderr).toBe(0);
        expect(preview.stdout).toMatch(/memory\s*:\s*256 => 320/);
        expect(preview.stdout).toMatch(/interval\s*:\s*"30s" => "20s"/);
        const up = stack.up();
        expect(up.code, up.stdout + up.stderr).toBe(0);
        const lw = inspectStack(device, STACK).logline_writer;
        expect(lw.HostConfig.Memory).toBe(320 * 1024 * 1024);
        expect(lw.Config.Healthcheck.Interval).toBe(ns(20));
        expect(lw.State.Health.Status).toBe("healthy");
    });

    it("has an unhealthy container restarted by the self-monitor", async () => {
        const before = inspectStack(device, STACK).scene_scanner;
        // The stand-in turns unhealthy on request: its heartbeat stops.
        docker(device, "exec", "scene_scanner", "/standin", "fail-health");
        const restarted = await waitFor("self-monitor to restart scene_scanner", 600, () => {
            const c = inspectStack(device, STACK).scene_scanner;
            return c.State.StartedAt !== before.State.StartedAt ? c : undefined;
        });
        expect(restarted.Id).toBe(before.Id);
        const actions = docker(device, "logs", "self_monitor")
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(actions).toContainEqual(expect.objectContaining({ event: "restart", container: "scene_scanner", reason: "unhealthy", result: "ok" }));
        await waitFor("scene_scanner healthy again", 300, () => inspectStack(device, STACK).scene_scanner.State.Health.Status === "healthy");
    });

    it("keeps storage and named volumes through destroy, and comes back on the same data", () => {
        // The stand-ins rotate their own work items (they keep the newest few),
        // so the comparison covers what no service removes: data the test puts
        // in every storage directory, and each service's append-only boot log.
        for (const dir of fs.readdirSync(storageRoot)) {
            fs.writeFileSync(path.join(storageRoot, dir, "e2e-archive.bin"), randomBytes(256 * 1024));
        }
        const kept = () => Object.fromEntries(Object.entries(checksums(storageRoot)).filter(([f]) => /(e2e-archive\.bin|\.boots)$/.test(f)));
        const before = kept();
        expect(Object.keys(before).filter((f) => f.endsWith(".boots")).length).toBeGreaterThanOrEqual(5);
        expect(Object.keys(before).filter((f) => f.endsWith(".bin")).length).toBeGreaterThanOrEqual(5);
        // Fresh volumes (see beforeAll): the marker can only come from this run.
        expect(() => docker(device, "exec", "grafana", "test", "-e", "/var/lib/grafana/e2e-marker")).toThrow();
        docker(device, "exec", "grafana", "sh", "-c", "echo dashboards > /var/lib/grafana/e2e-marker");

        const destroy = stack.destroy();
        expect(destroy.code, destroy.stdout + destroy.stderr).toBe(0);
        expect(inspectStack(device, STACK)).toEqual({});
        expect(kept()).toEqual(before);
        const volumes = docker(device, "volume", "ls", "--format", "{{.Name}}").split("\n");
        expect(volumes).toEqual(expect.arrayContaining(["grafana_data", "prometheus_data"]));

        const up = stack.up();
        expect(up.code, up.stdout + up.stderr).toBe(0);
        expect(docker(device, "exec", "grafana", "cat", "/var/lib/grafana/e2e-marker").trim()).toBe("dashboards");
        // Back on the same directories: archives unchanged, every boot log
        // keeps its lines and gains one.
        const after = kept();
        for (const [f, sum] of Object.entries(before)) {
            if (f.endsWith(".bin")) expect(after[f], f).toEqual(sum);
            else {
                expect(prefixSha256(path.join(storageRoot, f), sum.size), f).toBe(sum.sha256);
                expect(after[f]!.size, f).toBeGreaterThan(sum.size);
            }
        }
    });

    it("never shows the registry token in plain text", () => {
        expect(token.length).toBeGreaterThan(8);
        const places: Record<string, string> = {
            "state file": fs.readFileSync(stack.stateFile(), "utf8"),
            "CLI output": fs.readFileSync(TRANSCRIPT, "utf8"),
            "stack config": fs.readFileSync(stack.configFile, "utf8"),
        };
        const inspected = inspectStack(device, STACK);
        for (const name of Object.keys(inspected)) {
            places[`docker inspect ${name}`] = JSON.stringify(inspected[name]);
            places[`docker logs ${name}`] = docker(device, "logs", name);
        }
        const b64 = Buffer.from(`${device.registry.username}:${token}`).toString("base64");
        for (const [where, text] of Object.entries(places)) {
            expect(text.includes(token), where).toBe(false);
            expect(text.includes(b64), where).toBe(false);
        }
        // git grep exits 1 when nothing matches.
        const grep = spawnSync("git", ["grep", "-l", "-F", token], { cwd: ROOT, encoding: "utf8" });
        expect(grep.status, grep.stdout).toBe(1);
    });
});
