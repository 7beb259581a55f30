import { describe, expect, it } from "vitest";
import { dockerSocket, exposesDockerSocket, noNewPrivileges, noPrivileged } from "../../policy/rules/security";
import { container, violations } from "./policyHarness";

const socket = { hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: false };

describe("no-privileged-containers", () => {
    it("passes an unprivileged container", async () => {
        expect(await violations(noPrivileged, container())).toEqual([]);
    });
    it("refuses a privileged one", async () => {
        expect(await violations(noPrivileged, container({ privileged: true }))).toEqual([
            "tv_api on dev-1 runs privileged; a privileged container owns the device",
        ]);
    });
});

describe("no-new-privileges", () => {
    it("passes the option in each form Docker takes", async () => {
        for (const o of ["no-new-privileges:true", "no-new-privileges=true", "no-new-privileges"]) {
            expect(await violations(noNewPrivileges, container({ securityOpts: ["apparmor=docker-default", o] }))).toEqual([]);
        }
    });
    it("refuses a container without it, or with it switched off", async () => {
        expect(await violations(noNewPrivileges, container({ securityOpts: undefined }))).toEqual([
            "tv_api on dev-1 lacks the security option no-new-privileges:true (has: none)",
        ]);
        expect(await violations(noNewPrivileges, container({ securityOpts: ["no-new-privileges:false"] }))).toHaveLength(1);
    });
});

describe("docker-socket-only-for-agents", () => {
    it("lets watchtower and the self-monitor mount the socket", async () => {
        for (const svc of ["watchtower", "self_monitor"]) {
            expect(await violations(dockerSocket, container({ volumes: [socket] }, svc))).toEqual([]);
        }
    });
    it("passes a service that mounts only its storage", async () => {
        expect(await violations(dockerSocket, container())).toEqual([]);
    });
    it("refuses the socket in any other service, by volume or by mount", async () => {
        expect(await violations(dockerSocket, container({ volumes: [socket] }))).toEqual([
            "tv_api on dev-1 mounts /var/run/docker.sock, which exposes the Docker socket; only watchtower and self_monitor may",
        ]);
        expect(await violations(dockerSocket, container({ mounts: [{ type: "bind", source: "/run/docker.sock", target: "/s" }] }, "grafana"))).toHaveLength(1);
    });
    it("counts a directory above the socket as the socket", () => {
        expect(["/var/run", "/var/run/", "/run", "/", "/var", "/srv/x/docker.sock"].map(exposesDockerSocket)).toEqual([true, true, true, true, true, true]);
        expect(["/srv/vv-video", "/var/lib/docker", "/runner"].map(exposesDockerSocket)).toEqual([false, false, false]);
    });
});
