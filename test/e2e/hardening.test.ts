/**
 * Least privilege and secret files on a real device: every container drops
 * all capabilities and gets back only its documented ones, runs on a
 * read-only root filesystem with a bounded tmpfs where its service allows it
 * and under its documented pids limit, and grafana's admin password reaches it
 * as a file that `docker inspect` never shows. Expected values are written
 * out here, not read from the planner. Healthchecks are shortened through the
 * stack settings.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimDevice, TestStack, docker, inspectStack, localConfig, run, simDevice, stackFilter } from "./support";

const STACK = "e2e-hardening";
const SERVICES = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "prometheus", "grafana", "self_monitor"];
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };
const PASSWORD = `grafana-admin-${randomBytes(16).toString("hex")}`;
const SECRET_PATH = "serviceSecrets.grafana.GF_SECURITY_ADMIN_PASSWORD";

// README "Least privilege", written out.
const CAP_ADD: Record<string, string[] | null> = {
    agent_dvr: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"],
    scene_scanner: null,
    scene_summarizer: null,
    logline_writer: null,
    playlist_manager: null,
    tv_api: null,
    watchtower: null,
    prometheus: null,
    grafana: null,
    self_monitor: null,
};
// grafana would be read-only, but receives a secret file, which Docker cannot copy into a read-only root.
const READ_ONLY = new Set(["tv_api", "prometheus", "self_monitor"]);
const SCRATCH = { "/tmp": "rw,noexec,nosuid,nodev,size=16m" };
// README "Service defaults", the pids limit column, written out.
const PIDS_LIMIT: Record<string, number> = {
    agent_dvr: 512,
    scene_scanner: 256,
    scene_summarizer: 256,
    logline_writer: 256,
    playlist_manager: 256,
    tv_api: 256,
    watchtower: 64,
    prometheus: 256,
    grafana: 256,
    self_monitor: 64,
};

let device: SimDevice;
let stack: TestStack;
let values: Record<string, any>;

function setPassword(): void {
    const r = run("pulumi", ["config", "set", "--stack", STACK, "--config-file", stack.configFile, "--secret", "--path", SECRET_PATH], PASSWORD);
    if (r.code !== 0) throw new Error(`pulumi config set ${SECRET_PATH}: ${r.stderr}`);
}

beforeAll(() => {
    device = simDevice("sim-edge-17");
    values = localConfig([device], "e2e-hardening");
    values.services = Object.fromEntries(
        SERVICES.filter((s) => s !== "watchtower").map((s) => [s, { healthcheck: FAST, ...(s === "prometheus" || s === "grafana" ? { enabled: true } : {}) }]),
    );
    stack = TestStack.create(STACK, values, device);
    stack.destroy();
    const leftovers = docker(device, "ps", "-aq", "--filter", stackFilter(STACK)).split(/\s+/).filter(Boolean);
    if (leftovers.length > 0) docker(device, "rm", "-f", ...leftovers);
    setPassword();
}, 5 * 60_000);

afterAll(() => {
    stack?.destroy();
});

describe("least privilege and secret files", () => {
    it("deploys every service healthy and changes nothing on a second run", () => {
        const up = stack.up();
        expect(up.code, up.stdout + up.stderr).toBe(0);
        const inspected = inspectStack(device, STACK);
        expect(Object.keys(inspected).sort()).toEqual([...SERVICES].sort());
        for (const [name, c] of Object.entries(inspected)) expect(c.State.Health?.Status, name).toBe("healthy");
        // Docker reads capabilities and tmpfs back in its own spelling; that must not look like a change.
        const preview = stack.preview("--expect-no-changes");
        expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    });

    it("drops every capability and adds back only the documented ones, read-only root and tmpfs where allowed, pids limit", () => {
        const inspected = inspectStack(device, STACK);
        for (const name of SERVICES) {
            const h = inspected[name].HostConfig;
            expect(h.CapDrop, name).toEqual(["ALL"]);
            expect(h.CapAdd, name).toEqual(CAP_ADD[name]);
            expect(h.ReadonlyRootfs, name).toBe(READ_ONLY.has(name));
            expect(h.Tmpfs, name).toEqual(READ_ONLY.has(name) ? SCRATCH : undefined);
            expect(h.SecurityOpt, name).toEqual(["no-new-privileges:true"]);
            expect(h.Privileged, name).toBe(false);
            expect(h.PidsLimit, name).toBe(PIDS_LIMIT[name]);
        }
        // The daemon enforces them, not only records them.
        const write = run("docker", ["--host", device.dockerHost, "exec", "tv_api", "touch", "/app/probe"]);
        expect(write.code).not.toBe(0);
        expect(write.stderr).toMatch(/Read-only file system/);
        const chown = run("docker", ["--host", device.dockerHost, "exec", "tv_api", "sh", "-c", "touch /tmp/probe && chown 1 /tmp/probe"]);
        expect(chown.code).not.toBe(0);
        expect(chown.stderr).toMatch(/Operation not permitted/);
    });

    it("binds grafana's port on 127.0.0.1 and tv_api's on every interface", () => {
        const inspected = inspectStack(device, STACK);
        expect(inspected.grafana.HostConfig.PortBindings).toEqual({ "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: "3000" }] });
        expect(inspected.grafana.NetworkSettings.Ports["3000/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: "3000" }]);
        expect(inspected.tv_api.HostConfig.PortBindings).toEqual({ "8000/tcp": [{ HostIp: "0.0.0.0", HostPort: "8000" }] });
    });

    it("hands grafana its admin password as a file only", () => {
        const inspected = inspectStack(device, STACK);
        const ids = Object.values(inspected).map((c) => c.Id as string);
        const raw = docker(device, "inspect", ...ids);
        expect(raw).not.toContain(PASSWORD);
        expect(raw).not.toContain(Buffer.from(PASSWORD).toString("base64"));
        expect(inspected.grafana.Config.Env).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/GF_SECURITY_ADMIN_PASSWORD");
        expect((inspected.grafana.Config.Env as string[]).filter((e) => e.startsWith("GF_SECURITY_ADMIN_PASSWORD="))).toEqual([]);
        expect(docker(device, "exec", "grafana", "cat", "/run/secrets/GF_SECURITY_ADMIN_PASSWORD")).toBe(PASSWORD);
        expect(docker(device, "exec", "grafana", "stat", "-c", "%a %u", "/run/secrets/GF_SECURITY_ADMIN_PASSWORD").trim()).toBe("444 0");
        // Encrypted in the state and the stack file, absent from everything the CLI printed.
        expect(fs.readFileSync(stack.stateFile(), "utf8")).not.toContain(PASSWORD);
        expect(fs.readFileSync(stack.configFile, "utf8")).not.toContain(PASSWORD);
        const logs = run("docker", ["--host", device.dockerHost, "logs", "grafana"]);
        expect(logs.stdout + logs.stderr).not.toContain(PASSWORD);
    });

    it("shows a changed bind address in preview as a replacement of that container only", () => {
        values.services.grafana = { ...values.services.grafana, publishAddress: "0.0.0.0" };
        stack.setConfig(values);
        setPassword();
        const planned = stack.plannedSteps().map((s) => `${s.op} ${s.urn.split("::").pop()}`);
        expect(planned).toEqual(["replace sim-edge-17-grafana"]);
    });
});
