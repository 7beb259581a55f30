import { describe, expect, it } from "vitest";
import { ConfigError, formatProblem } from "../../config/errors";
import { parseFleetConfig } from "../../config/parse";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

const SECRETS = new Set(["sshPrivateKey", "registryToken"]);
const DIGEST = `sha256:${"a".repeat(64)}`;

const device = (name: string, host: string, more: Record<string, unknown> = {}) => ({ name, host, hostPublicKey: TEST_HOST_KEY, ...more });
const stack = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    hardwareClass: "jetson",
    registry: { username: "vv-deploy" },
    release: { tag: "2.2.0" },
    devices: [device("lobby-01", "10.1.0.5")],
    sshPrivateKey: TEST_PRIVATE_KEY,
    registryToken: "ghp_unitTestToken",
    ...over,
});

function errorOf(values: Record<string, unknown>): ConfigError {
    try {
        parseFleetConfig({ values, secretKeys: SECRETS });
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return e as ConfigError;
    }
    throw new Error("expected a ConfigError");
}
const problemsOf = (values: Record<string, unknown>) => errorOf(values).problems.map(formatProblem);

describe("one parse reports every configuration problem", () => {
    it("lists the schema and the semantic mistakes of a stack file in one error, grouped by part", () => {
        const error = errorOf(
            stack({
                hardwareClass: "orin", // schema
                devices: [
                    device("lobby-01", "10.1.0.256"), // schema
                    device("lobby-01", "10.1.0.6"), // semantic: duplicate name
                ],
                videoStorageRoot: "/srv/video:ro", // semantic
                registry: { username: "vv:deploy" }, // schema
                release: { tag: "2.2.0", services: { tv_api: { tag: "2.2.1", digest: DIGEST } } }, // semantic
                services: { scene_summarizer: { cpus: 40 }, tv_api: { healthcheck: { retries: 0 } } }, // semantic, schema
                watchtower: { services: ["agent_dvr", "scene_scanner", "agent_dvr"] }, // semantic
            }),
        );
        expect(error.message.split("\n")[0]).toBe("invalid stack configuration (9 problems); no device was contacted:");
        expect(error.problems.map(formatProblem)).toEqual([
            'hardwareClass: unknown hardware class "orin"; allowed: jetson, x86, cpu (got "orin")',
            'devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "10.1.0.256")',
            'devices[1].name: duplicate device name; devices[0] already uses it (got "lobby-01")',
            "videoStorageRoot: must not contain ':' or ',', which Docker's bind mounts use as separators (got \"/srv/video:ro\")",
            "registry.username: must not contain ':' or white space (Docker joins it to the token with ':') (got \"vv:deploy\")",
            `release.services.tv_api.digest: give either a tag or a digest for one service, not both (a digest pins exactly; the tag would be ignored) (got "${DIGEST}")`,
            "services.tv_api.healthcheck.retries: must be at least 1 (got 0)",
            "services.scene_summarizer.cpus: must be more than 0 and at most 16, the most CPUs of any hardware class (got 40)",
            'watchtower.services[2]: named twice (first at watchtower.services[0]) (got "agent_dvr")',
        ]);
    });

    it("checks the fields of an override that passed beside one that failed", () => {
        expect(problemsOf(stack({ services: { tv_api: { healthcheck: { retries: 0 }, cpus: 13, memory: "512" } } }))).toEqual([
            "services.tv_api.healthcheck.retries: must be at least 1 (got 0)",
            'services.tv_api.memory: must be a size with a unit such as 512m or 2g (b, k, m, g) (got "512")',
            "services.tv_api.cpus: must be more than 0 and at most 12, the CPUs of this hardware class (got 13)",
        ]);
    });

    it("checks the devices that passed beside one that failed, by their index in the stack file", () => {
        expect(
            problemsOf(stack({ devices: ["lobby-00", device("lobby-01", "10.1.0.5", { videoStorageRoot: "/etc/video" }), device("lobby-02", "10.1.0.5")] })),
        ).toEqual([
            'devices[0]: must be a mapping (got "lobby-00")',
            'devices[1].videoStorageRoot: must not be inside /etc, which belongs to the operating system or Docker (got "/etc/video")',
            'devices[2].host: devices[1] already deploys to 10.1.0.5:22; one device, one entry (got "10.1.0.5")',
        ]);
    });

    it("holds limits to the largest hardware class when the class itself is invalid or missing", () => {
        const services = { tv_api: { cpus: 13, memory: "40g" }, scene_summarizer: { cpus: 17, memoryMiB: 70000 } };
        expect(problemsOf(stack({ hardwareClass: "arm", services }))).toEqual([
            'hardwareClass: unknown hardware class "arm"; allowed: jetson, x86, cpu (got "arm")',
            "services.scene_summarizer.memoryMiB: must be between 6 (Docker's minimum) and 65536 MiB for any hardware class (got 70000)",
            "services.scene_summarizer.cpus: must be more than 0 and at most 16, the most CPUs of any hardware class (got 17)",
        ]);
        const missing = stack({ services });
        delete missing.hardwareClass;
        expect(problemsOf(missing)[0]).toBe("hardwareClass: required; allowed: jetson, x86, cpu");
        expect(problemsOf(missing)).toHaveLength(3);
    });
});

describe("a part that failed its schema draws no second message", () => {
    it.each<[string, Record<string, unknown>, string[]]>([
        [
            "a healthcheck timeout out of range is not also compared with the interval",
            { services: { tv_api: { healthcheck: { intervalSeconds: 10, timeoutSeconds: 900 } } } },
            ["services.tv_api.healthcheck.timeoutSeconds: must be at most 600 seconds (got 900)"],
        ],
        [
            "a wave size out of range is not also reported as set beside the growth factor",
            { rollout: { waveSize: 0, waveGrowthFactor: 2 } },
            ["rollout.waveSize: must be at least 1 device (got 0)"],
        ],
        [
            "a device with an invalid port is not compared by address",
            { devices: [device("lobby-01", "10.1.0.5"), device("lobby-02", "10.1.0.5", { port: "22" })] },
            ['devices[1].port: must be a number (got "22")'],
        ],
        [
            "an invalid device name is neither a duplicate nor missing from the canary list",
            { devices: [device("Lobby_01", "10.1.0.5"), device("lobby-02", "10.1.0.6")], rollout: { canary: ["Lobby_01"] } },
            ['devices[0].name: must be a lower-case DNS label: letters, digits and \'-\', at most 63 characters (got "Lobby_01")'],
        ],
        [
            "a release tag of the wrong type is not also reported missing for every service",
            { release: { tag: 2.2 } },
            ["release.tag: must be a string (got 2.2)"],
        ],
        [
            "a service whose enabled flag is invalid is not also reported as watched but enabled nowhere",
            { services: { orchestrator: { enabled: "yes" } }, watchtower: { services: ["orchestrator"] } },
            ['services.orchestrator.enabled: must be true or false (got "yes")'],
        ],
        [
            "a mistyped service is not also reported as watched but enabled nowhere",
            { services: { orchestator: { enabled: true } }, watchtower: { services: ["orchestrator"] } },
            [`services.orchestator: unknown service "orchestator"; allowed: agent_dvr, scene_scanner, scene_summarizer, logline_writer, playlist_manager, tv_api, watchtower, orchestrator, prometheus, grafana, self_monitor`],
        ],
        [
            "an unknown top-level setting is reported once",
            { hardwareclass: "x86" },
            [
                'hardwareclass: unknown setting (did you mean hardwareClass?); allowed: hardwareClass, devices, videoStorageRoot, registry, release, services, environment, logging, watchtower, selfMonitor, orchestrator, stopGraceSeconds, healthcheckStartIntervalSeconds, rollout, shards, sshPrivateKey, registryToken, serviceSecrets (got "x86")',
            ],
        ],
    ])("%s", (_title, over, expected) => {
        expect(problemsOf(stack(over))).toEqual(expected);
    });

    it("gives the same list whatever the order of the settings", () => {
        const over = { watchtower: { services: ["tv_api", "tv_api"] }, hardwareClass: "arm", devices: [device("lobby-01", "999.1.1.1")], videoStorageRoot: "relative" };
        const forward = problemsOf(stack(over));
        const backward = problemsOf(Object.fromEntries(Object.entries(stack(over)).reverse()));
        expect(backward).toEqual(forward);
        expect(forward.map((p) => p.split(":")[0])).toEqual(["hardwareClass", "devices[0].host", "videoStorageRoot", "watchtower.services[1]"]);
    });
});
