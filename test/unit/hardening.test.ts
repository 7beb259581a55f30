import { beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../config/errors";
import { FleetConfig } from "../../config/model";
import { parseFleetConfig } from "../../config/parse";
import { ContainerSpec, planDevice } from "../../plan/containerSpec";
import { CONTAINER, TEST_HOST_KEY, TEST_PRIVATE_KEY, byType, isSecret, plainParts, runProgram, stackConfig } from "./harness";

const PASSWORD = "unit-grafana-admin-password-0123456789";
const ALL_OPTIONAL = { prometheus: { enabled: true }, grafana: { enabled: true }, orchestrator: { enabled: true } };


function fleetOf(extra: Record<string, unknown> = {}, secretKeys: string[] = []): FleetConfig {
    return parseFleetConfig({
        values: {
            hardwareClass: "jetson",
            registry: { username: "vv-deploy" },
            release: { tag: "2.2.0" },
            devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }],
            services: ALL_OPTIONAL,
            sshPrivateKey: TEST_PRIVATE_KEY,
            registryToken: "t",
            ...extra,
        },
        secretKeys: new Set(["sshPrivateKey", "registryToken", ...secretKeys]),
    });
}

function specs(extra: Record<string, unknown> = {}, secretKeys: string[] = []): Record<string, ContainerSpec> {
    const fleet = fleetOf(extra, secretKeys);
    return Object.fromEntries(planDevice(fleet, fleet.devices[0]!, "edge-test").map((s) => [s.service, s]));
}

function problems(extra: Record<string, unknown>, secretKeys: string[] = ["serviceSecrets"]): string {
    try {
        fleetOf(extra, secretKeys);
    } catch (e) {
        if (e instanceof ConfigError) return e.message;
        throw e;
    }
    throw new Error("expected a ConfigError");
}

const SCRATCH = [{ containerPath: "/tmp", sizeMiB: 16, options: "rw,noexec,nosuid,nodev,size=16m" }];

describe("least privilege per service", () => {
    it("drops every capability, adds back only the documented ones, read-only with scratch where allowed, and a pids limit", () => {
        const s = specs();
        const table = Object.fromEntries(
            Object.values(s).map((x) => [x.service, { drop: x.capDrop, add: x.capAdd, readOnly: x.readOnlyRootFilesystem, tmpfs: x.tmpfs, pids: x.pidsLimit }]),
        );
        const worker = { drop: ["ALL"], add: [], readOnly: false, tmpfs: [], pids: 256 };
        expect(table).toEqual({
            agent_dvr: { drop: ["ALL"], add: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"], readOnly: false, tmpfs: [], pids: 512 },
            scene_scanner: worker,
            scene_summarizer: worker,
            logline_writer: worker,
            playlist_manager: worker,
            tv_api: { drop: ["ALL"], add: [], readOnly: true, tmpfs: SCRATCH, pids: 256 },
            watchtower: { drop: ["ALL"], add: [], readOnly: false, tmpfs: [], pids: 64 },
            orchestrator: worker,
            prometheus: { drop: ["ALL"], add: [], readOnly: true, tmpfs: SCRATCH, pids: 256 },
            grafana: { drop: ["ALL"], add: [], readOnly: true, tmpfs: SCRATCH, pids: 256 },
            self_monitor: { drop: ["ALL"], add: [], readOnly: true, tmpfs: SCRATCH, pids: 64 },
        });
    });

    it("binds tv_api on every interface and grafana on the device itself, unless a stack or device says otherwise", () => {
        expect(specs().tv_api!.ports).toEqual([{ internal: 8000, external: 8000, address: "0.0.0.0" }]);
        expect(specs().grafana!.ports).toEqual([{ internal: 3000, external: 3000, address: "127.0.0.1" }]);
        const stackWide = specs({ services: { ...ALL_OPTIONAL, grafana: { enabled: true, publishAddress: "10.1.0.5" }, tv_api: { publishAddress: "::1" } } });
        expect(stackWide.grafana!.ports[0]!.address).toBe("10.1.0.5");
        expect(stackWide.tv_api!.ports[0]!.address).toBe("::1");
        const perDevice = specs({
            devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY, services: { tv_api: { publishAddress: "192.168.1.20" } } }],
            services: { ...ALL_OPTIONAL, tv_api: { publishAddress: "127.0.0.1" } },
        });
        expect(perDevice.tv_api!.ports[0]!.address).toBe("192.168.1.20");
    });

    it("gives a service with secret files their __FILE variables and a writable root, since Docker copies files only into one", () => {
        const s = specs({ serviceSecrets: { grafana: { GF_SECURITY_ADMIN_PASSWORD: PASSWORD, GF_DATABASE_PASSWORD: "another-secret" } } }, ["serviceSecrets"]);
        const g = s.grafana!;
        expect(g.secretFiles).toEqual([
            { name: "GF_DATABASE_PASSWORD", containerPath: "/run/secrets/GF_DATABASE_PASSWORD", permissions: "0444" },
            { name: "GF_SECURITY_ADMIN_PASSWORD", containerPath: "/run/secrets/GF_SECURITY_ADMIN_PASSWORD", permissions: "0444" },
        ]);
        expect(g.environment.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe("/run/secrets/GF_SECURITY_ADMIN_PASSWORD");
        expect(g.environment.GF_DATABASE_PASSWORD__FILE).toBe("/run/secrets/GF_DATABASE_PASSWORD");
        expect(JSON.stringify(s)).not.toContain(PASSWORD);
        expect([g.readOnlyRootFilesystem, g.tmpfs]).toEqual([false, []]);
        expect(s.tv_api!.secretFiles).toEqual([]);
    });
});

describe("configuration of secrets and bind addresses", () => {
    const cases: [string, Record<string, unknown>, string[], string][] = [
        ["plain-text serviceSecrets", { serviceSecrets: { grafana: { GF_SECURITY_ADMIN_PASSWORD: PASSWORD } } }, [], "serviceSecrets: is stored in plain text in the stack file; remove it and set each value as a secret"],
        ["unknown service", { serviceSecrets: { grafanna: { X: PASSWORD } } }, ["serviceSecrets"], "serviceSecrets.grafanna: unknown service; allowed: agent_dvr, scene_scanner"],
        ["bad secret name", { serviceSecrets: { grafana: { "GF-ADMIN": PASSWORD } } }, ["serviceSecrets"], "serviceSecrets.grafana.GF-ADMIN: secret names must match [A-Za-z_][A-Za-z0-9_]*"],
        ["name with __FILE", { serviceSecrets: { grafana: { GF_SECURITY_ADMIN_PASSWORD__FILE: PASSWORD } } }, ["serviceSecrets"], "serviceSecrets.grafana.GF_SECURITY_ADMIN_PASSWORD__FILE: give the name without __FILE"],
        ["empty value", { serviceSecrets: { grafana: { GF_SECURITY_ADMIN_PASSWORD: "" } } }, ["serviceSecrets"], "serviceSecrets.grafana.GF_SECURITY_ADMIN_PASSWORD: must be a non-empty text value"],
        ["service not deployed", { services: {}, serviceSecrets: { grafana: { GF_SECURITY_ADMIN_PASSWORD: PASSWORD } } }, ["serviceSecrets"], "serviceSecrets.grafana: service is not enabled on any device"],
        [
            "the same variable in the environment",
            // A name that does not look like a credential: one that does is refused in the environment already.
            { services: { ...ALL_OPTIONAL, grafana: { enabled: true, environment: { GF_AUTH_CLIENT_ID__FILE: "/elsewhere" } } }, serviceSecrets: { grafana: { GF_AUTH_CLIENT_ID: PASSWORD } } },
            ["serviceSecrets"],
            "serviceSecrets.grafana.GF_AUTH_CLIENT_ID: the environment of grafana also sets GF_AUTH_CLIENT_ID__FILE; remove it there",
        ],
        ["not an address", { services: { tv_api: { publishAddress: "localhost" } } }, [], 'services.tv_api.publishAddress: must be an IPv4 or IPv6 address (without brackets) such as 127.0.0.1, 0.0.0.0 or ::1 (got "localhost")'],
        ["address out of range", { services: { tv_api: { publishAddress: "300.1.1.1" } } }, [], 'services.tv_api.publishAddress: must be an IPv4 or IPv6 address (without brackets) such as 127.0.0.1, 0.0.0.0 or ::1 (got "300.1.1.1")'],
        ["address of a service without ports", { services: { agent_dvr: { publishAddress: "0.0.0.0" } } }, [], 'services.agent_dvr.publishAddress: agent_dvr publishes no port; only tv_api, grafana do (got "0.0.0.0")'],
    ];
    for (const [what, extra, secretKeys, expected] of cases) {
        it(what, () => {
            const message = problems(extra, secretKeys);
            expect(message).toContain(expected);
            expect(message).not.toContain(PASSWORD);
        });
    }
});

describe("the program under mocks", () => {
    beforeEach(() => {
        vi.resetModules();
    });

    it("uploads grafana's password as a secret file, sets only its path, and applies capabilities, read-only, tmpfs and bind addresses", async () => {
        const values = stackConfig("Pulumi.edge-x86.yaml");
        values.serviceSecrets = { grafana: { GF_SECURITY_ADMIN_PASSWORD: PASSWORD } };
        const { resources } = await runProgram(values, { stack: "edge-x86", extraSecretKeys: ["serviceSecrets"] });
        const containers = byType(resources, CONTAINER);
        for (const r of resources) expect(plainParts(r.inputs), r.name).not.toContain(PASSWORD);
        const grafana = containers.find((c) => c.inputs.name === "grafana")!;
        expect(isSecret(grafana.inputs.uploads)).toBe(true);
        const upload = grafana.inputs.uploads.value as any[];
        expect(upload).toEqual([{ file: "/run/secrets/GF_SECURITY_ADMIN_PASSWORD", content: PASSWORD, permissions: "0444" }]);
        expect((grafana.inputs.envs as string[]).filter((e) => e.startsWith("GF_"))).toEqual(["GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/GF_SECURITY_ADMIN_PASSWORD"]);
        expect([grafana.inputs.readOnly, grafana.inputs.tmpfs]).toEqual([false, {}]);
        expect(grafana.inputs.ports).toEqual([{ internal: 3000, external: 3000, ip: "127.0.0.1", protocol: "tcp" }]);

        const tv = containers.find((c) => c.inputs.name === "tv_api")!;
        expect(tv.inputs.capabilities).toEqual({ drops: ["ALL"] });
        expect(tv.inputs.readOnly).toBe(true);
        expect(tv.inputs.tmpfs).toEqual({ "/tmp": "rw,noexec,nosuid,nodev,size=16m" });
        expect(tv.inputs.ports).toEqual([{ internal: 8000, external: 8000, ip: "0.0.0.0", protocol: "tcp" }]);
        const dvr = containers.find((c) => c.inputs.name === "agent_dvr")!;
        expect(dvr.inputs.capabilities).toEqual({ drops: ["ALL"], adds: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"] });
        expect([dvr.inputs.readOnly, dvr.inputs.tmpfs]).toEqual([false, {}]);
        for (const c of containers) expect(c.inputs.capabilities.drops, c.name).toEqual(["ALL"]);
    });

    it("registers every container with its service's pids limit, which the SDK's Container class alone would drop", async () => {
        const values = stackConfig("Pulumi.edge-x86.yaml");
        values.services = { ...(values.services as Record<string, unknown>), orchestrator: { enabled: true } };
        const { resources } = await runProgram(values, { stack: "edge-x86" });
        const limits = Object.fromEntries(byType(resources, CONTAINER).map((c) => [c.inputs.name, c.inputs.pidsLimit]));
        // README "Service defaults", written out.
        expect(limits).toEqual({
            agent_dvr: 512,
            scene_scanner: 256,
            scene_summarizer: 256,
            logline_writer: 256,
            playlist_manager: 256,
            tv_api: 256,
            watchtower: 64,
            orchestrator: 256,
            prometheus: 256,
            grafana: 256,
            self_monitor: 64,
        });
    });

    it("refuses service secrets stored in plain text before registering anything", async () => {
        const values = stackConfig("Pulumi.edge-x86.yaml");
        values.serviceSecrets = { grafana: { GF_SECURITY_ADMIN_PASSWORD: PASSWORD } };
        await expect(runProgram(values, { stack: "edge-x86" })).rejects.toThrow(/serviceSecrets: is stored in plain text/);
    });
});
