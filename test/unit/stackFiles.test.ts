import { beforeEach, describe, expect, it, vi } from "vitest";
import { LABEL_PREFIX } from "../../config/defaults";
import { CONTAINER, RecordedResource, TEST_REGISTRY_TOKEN, byType, runProgram, stackConfig } from "./harness";

beforeEach(() => {
    vi.resetModules();
});

const containersOf = (rs: RecordedResource[], device: string) => byType(rs, CONTAINER).filter((r) => r.name.startsWith(`${device}-`));
const labels = (c: RecordedResource) => Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));

describe("Pulumi.edge-jetson.yaml", () => {
    it("declares, per device, one provider, the networks and every enabled service", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-jetson.yaml"));
        for (const device of ["jetson-lobby-01", "jetson-bar-02"]) {
            const mine = resources.filter((r) => r.name.startsWith(`${device}`)).map((r) => `${r.type} ${r.name}`).sort();
            expect(mine).toEqual(
                [
                    `edge-fleet:device:DeviceConnection ${device}`,
                    `edge-fleet:device:EdgeDevice ${device}`,
                    `pulumi:providers:docker ${device}-docker`,
                    `docker:index/network:Network ${device}-backend`,
                    `docker:index/network:Network ${device}-control`,
                    ...["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "orchestrator", "self_monitor"].flatMap((s) => [
                        `edge-fleet:device:ServiceContainer ${device}-${s}`,
                        `docker:index/remoteImage:RemoteImage ${device}-${s}-image`,
                        `docker:index/container:Container ${device}-${s}`,
                    ]),
                ].sort(),
            );
        }
    });

    it("gives scene_summarizer the nvidia runtime and no device request", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-jetson.yaml"));
        const summarizers = byType(resources, CONTAINER).filter((c) => c.inputs.name === "scene_summarizer");
        expect(summarizers).toHaveLength(2);
        for (const s of summarizers) {
            expect(s.inputs.runtime).toBe("nvidia");
            expect(s.inputs.gpus).toBeUndefined();
        }
        const others = byType(resources, CONTAINER).filter((c) => c.inputs.name !== "scene_summarizer");
        expect(others.every((c) => c.inputs.runtime === undefined && c.inputs.gpus === undefined)).toBe(true);
    });

    it("applies the per-device memory override only on that device", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-jetson.yaml"));
        const mem = (d: string) => containersOf(resources, d).find((c) => c.inputs.name === "scene_summarizer")!.inputs.memory;
        expect(mem("jetson-lobby-01")).toBe(2048);
        expect(mem("jetson-bar-02")).toBe(4096);
    });

    it("reaches each device over ssh with its pinned host key", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-jetson.yaml"));
        const providers = byType(resources, "pulumi:providers:docker");
        expect(providers.map((p) => p.inputs.host).sort()).toEqual(["ssh://edge@192.0.2.21:22", "ssh://edge@192.0.2.22:22"]);
        for (const p of providers) {
            const opts = JSON.parse(p.inputs.sshOpts) as string[];
            expect(opts).toContain("StrictHostKeyChecking=yes");
            expect(opts).toContain("GlobalKnownHostsFile=/dev/null");
            expect(opts.join(" ")).not.toMatch(/StrictHostKeyChecking=(no|accept-new)/);
        }
    });
});

describe("Pulumi.edge-x86.yaml", () => {
    it("requests the GPU with --gpus and runs prometheus and grafana with retained volumes", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-x86.yaml"));
        const containers = byType(resources, CONTAINER);
        const summarizer = containers.find((c) => c.inputs.name === "scene_summarizer")!;
        expect(summarizer.inputs.gpus).toBe("all");
        expect(summarizer.inputs.runtime).toBeUndefined();
        expect(summarizer.inputs.memory).toBe(6144);
        expect(summarizer.inputs.cpus).toBe("4");
        expect(containers.map((c) => c.inputs.name).sort()).toEqual(
            ["agent_dvr", "grafana", "logline_writer", "playlist_manager", "prometheus", "scene_scanner", "scene_summarizer", "self_monitor", "tv_api", "watchtower"].sort(),
        );
        const volumes = byType(resources, "docker:index/volume:Volume");
        expect(volumes.map((v) => v.inputs.name).sort()).toEqual(["grafana_data", "prometheus_data"]);
        const grafana = containers.find((c) => c.inputs.name === "grafana")!;
        expect(grafana.inputs.ports).toEqual([{ internal: 3000, external: 3000, ip: "127.0.0.1", protocol: "tcp" }]);
        expect(grafana.inputs.volumes).toEqual([{ volumeName: "grafana_data", containerPath: "/var/lib/grafana" }]);
        const networks = byType(resources, "docker:index/network:Network").map((n) => n.inputs.name).sort();
        expect(networks).toEqual(["vv_backend", "vv_control", "vv_monitoring"]);
    });

    it("connects on the configured ssh port", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-x86.yaml"));
        expect(byType(resources, "pulumi:providers:docker").map((p) => p.inputs.host)).toEqual(["ssh://edge@198.51.100.31:2222"]);
    });
});

describe.each(["Pulumi.edge-jetson.yaml", "Pulumi.edge-x86.yaml", "Pulumi.local.yaml"])("policy over every container of %s", (file) => {
    it("holds for every container", async () => {
        const { resources } = await runProgram(stackConfig(file));
        const containers = byType(resources, CONTAINER);
        expect(containers.length).toBeGreaterThanOrEqual(8);
        for (const c of containers) {
            const why = `${c.name}`;
            expect(c.inputs.memory, why).toBeGreaterThan(0);
            expect(c.inputs.memorySwap, why).toBe(c.inputs.memory);
            expect(Number(c.inputs.cpus), why).toBeGreaterThan(0);
            expect(c.inputs.logDriver, why).toBe("json-file");
            expect(c.inputs.logOpts, why).toEqual({ "max-size": "10m", "max-file": "3" });
            expect(c.inputs.privileged, why).toBe(false);
            expect(c.inputs.securityOpts, why).toContain("no-new-privileges:true");
            expect(c.inputs.healthcheck?.tests?.length, why).toBeGreaterThan(0);
            expect(c.inputs.wait, why).toBe(true);
            expect(["always", "unless-stopped", "on-failure"], why).toContain(c.inputs.restart);
            const socket = (c.inputs.volumes as { hostPath?: string }[]).some((v) => v.hostPath === "/var/run/docker.sock");
            expect(socket, why).toBe(["watchtower", "self_monitor"].includes(c.inputs.name));
            const ports = (c.inputs.ports ?? []) as unknown[];
            if (ports.length > 0) expect(["tv_api", "grafana"], why).toContain(c.inputs.name);
            expect(labels(c)[`${LABEL_PREFIX}.service`], why).toBe(c.inputs.name);
            expect(JSON.stringify(c.inputs), why).not.toContain(TEST_REGISTRY_TOKEN);
            expect(c.inputs.envs.join("\n"), why).not.toMatch(/REPO_PASS|REPO_USER/);
        }
    });
});

describe("a device reached over IPv6", () => {
    it("gets its address in brackets in the docker host URL and in tv_api's URL", async () => {
        const values = stackConfig("Pulumi.edge-x86.yaml");
        values.devices = [{ ...(values.devices as Record<string, unknown>[])[0], host: "fd00::5", port: 22 }];
        const { resources, outputs } = await runProgram(values);
        const provider = byType(resources, "pulumi:providers:docker")[0]!;
        expect(provider.inputs.host).toBe("ssh://edge@[fd00::5]:22");
        expect((outputs.deviceOutputs as { tvApiUrl: string }[])[0]!.tvApiUrl).toBe("http://[fd00::5]:8000/status");
    });
});
