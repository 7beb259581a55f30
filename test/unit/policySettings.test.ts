import { describe, expect, it } from "vitest";
import { plainConfig } from "../../policy/engineConfig";
import { RULE_NAMES, applyLevels, levelOf, rules } from "../../policy/rules";
import { DEFAULT_ALLOWED_PORTS, EMPTY_SETTINGS, fixedContext, settingsFromConfig } from "../../policy/settings";

const config = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe("policy settings from the stack's configuration", () => {
    it("takes the registry and hardware class from the program's settings, with their defaults", () => {
        const s = settingsFromConfig("edge-jetson", config({ "edge-fleet:hardwareClass": "jetson", "edge-fleet:registry": '{"username":"u"}' }), RULE_NAMES);
        expect(s).toEqual({ stack: "edge-jetson", hardwareClass: "jetson", registryPrefix: "ghcr.io/vv-video-ai/", allowedPorts: DEFAULT_ALLOWED_PORTS, deviceMemoryMiB: {}, enforcement: {} });
    });
    it("reads its own settings under edge-fleet-policy:", () => {
        const s = settingsFromConfig(
            "local",
            config({
                "edge-fleet:registry": '{"server":"10.77.0.1:5000","namespace":"ns"}',
                "edge-fleet-policy:allowedPorts": "[8000]",
                "edge-fleet-policy:deviceMemoryMiB": '{"dev-1":8192}',
                "edge-fleet-policy:enforcement": '{"log-rotation":"advisory"}',
            }),
            RULE_NAMES,
        );
        expect(s.registryPrefix).toBe("10.77.0.1:5000/ns/");
        expect(s.allowedPorts).toEqual([8000]);
        expect(s.deviceMemoryMiB).toEqual({ "dev-1": 8192 });
        expect(levelOf("log-rotation", s)).toBe("advisory");
    });
    it("refuses malformed settings and unknown rule names", () => {
        expect(() => settingsFromConfig("x", config({ "edge-fleet-policy:allowedPorts": '["8000"]' }), RULE_NAMES)).toThrow(/edge-fleet-policy:allowedPorts/);
        expect(() => settingsFromConfig("x", config({ "edge-fleet-policy:enforcement": '{"log-rotation":"sometimes"}' }), RULE_NAMES)).toThrow(/enforcement/);
        expect(() => settingsFromConfig("x", config({ "edge-fleet-policy:enforcement": '{"no-such":"advisory"}' }), RULE_NAMES)).toThrow(
            "edge-fleet-policy:enforcement names unknown rules no-such",
        );
        expect(() => settingsFromConfig("x", config({ "edge-fleet-policy:allowedports": "[1]" }), RULE_NAMES)).toThrow(/allowedports/);
    });
    it("drops secret values as they arrive from the engine", () => {
        const req = {
            getConfigSecretKeysList: () => ["edge-fleet:sshPrivateKey"],
            getConfigMap: () => config({ "edge-fleet:sshPrivateKey": "KEY", "edge-fleet:hardwareClass": "cpu" }),
        };
        expect([...plainConfig(req as never)]).toEqual([["edge-fleet:hardwareClass", "cpu"]]);
    });
});

describe("enforcement levels", () => {
    it("are mandatory but for the digest and memory-budget rules", () => {
        const levels = Object.fromEntries(RULE_NAMES.map((r) => [r, levelOf(r, { ...EMPTY_SETTINGS, stack: "edge-x86" })]));
        expect(levels).toEqual({
            "no-privileged-containers": "mandatory",
            "no-new-privileges": "mandatory",
            "docker-socket-only-for-agents": "mandatory",
            "memory-and-cpu-limits": "mandatory",
            healthchecks: "mandatory",
            "restart-policy": "mandatory",
            "log-rotation": "mandatory",
            "images-from-stack-registry": "mandatory",
            "published-ports-allowlist": "mandatory",
            "pinned-host-key": "mandatory",
            "images-pinned-by-digest": "advisory",
            "device-memory-budget": "advisory",
        });
    });
    it("leave digest pinning off outside the production stacks unless the stack asks", () => {
        expect(levelOf("images-pinned-by-digest", { ...EMPTY_SETTINGS, stack: "edge-jetson" })).toBe("advisory");
        expect(levelOf("images-pinned-by-digest", { ...EMPTY_SETTINGS, stack: "local" })).toBe("disabled");
        expect(levelOf("images-pinned-by-digest", { ...EMPTY_SETTINGS, stack: "local", enforcement: { "images-pinned-by-digest": "mandatory" } })).toBe("mandatory");
    });
    it("are set on the rules the pack serves", () => {
        const all = rules(fixedContext(EMPTY_SETTINGS));
        applyLevels(all, { ...EMPTY_SETTINGS, stack: "local", enforcement: { healthchecks: "advisory" } });
        expect(all.find((r) => r.name === "healthchecks")!.enforcementLevel).toBe("advisory");
        expect(all.find((r) => r.name === "log-rotation")!.enforcementLevel).toBe("mandatory");
        expect(all.find((r) => r.name === "images-pinned-by-digest")!.enforcementLevel).toBe("disabled");
    });
});
