import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { parseMemory } from "../../config/checks";
import { allowedKeysAt } from "../../config/issues";
import { RawConfig } from "../../config/model";
import { parseFleetConfig } from "../../config/parse";
import { fleetSchema } from "../../config/schema";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

const validValues = (): Record<string, any> => ({
    hardwareClass: "jetson",
    registry: { username: "vv-deploy" },
    release: { tag: "2.2.0" },
    devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }],
    sshPrivateKey: TEST_PRIVATE_KEY,
    registryToken: "tok",
});
const SECRETS = new Set(["sshPrivateKey", "registryToken"]);

function problemsOf(mutate: (v: Record<string, any>) => void, secretKeys: ReadonlySet<string> = SECRETS): string[] {
    const values = validValues();
    mutate(values);
    const raw: RawConfig = { values, secretKeys };
    try {
        parseFleetConfig(raw);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).message.split("\n").slice(1).map((l) => l.replace(/^\s+- /, ""));
    }
    throw new Error("expected a ConfigError");
}

describe("parseFleetConfig defaults", () => {
    it("fills every default from one place", () => {
        const fleet = parseFleetConfig({ values: validValues(), secretKeys: SECRETS });
        expect(fleet.registry).toEqual({ server: "ghcr.io", username: "vv-deploy", namespace: "vv-video-ai" });
        expect(fleet.logging).toEqual({ maxSizeMiB: 10, maxFiles: 3 });
        expect(fleet.watchtower).toEqual({ intervalSeconds: 300, cleanup: true, includeStopped: true, monitorOnly: true, services: ["agent_dvr", "scene_scanner", "scene_summarizer"] });
        const d = fleet.devices[0]!;
        expect(d).toMatchObject({ name: "dev-01", port: 22, user: "edge", videoStorageRoot: "/srv/vv-video" });
        expect(d.services.map((s) => s.name)).toEqual(["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "self_monitor"]);
        const summarizer = d.services.find((s) => s.name === "scene_summarizer")!;
        expect(summarizer).toMatchObject({ memoryMiB: 2048, cpus: 1.5, image: { repository: "ghcr.io/vv-video-ai/scene_summarizer", tag: "2.2.0" } });
        expect(summarizer.environment).toEqual({ LOG_LEVEL: "INFO", TZ: "UTC" });
    });

    it("layers environment: stack, then service, then device", () => {
        const fleet = parseFleetConfig({
            values: {
                ...validValues(),
                environment: { LOG_LEVEL: "WARNING", SITE: "lobby" },
                services: { tv_api: { environment: { LOG_LEVEL: "DEBUG", WORKERS: 2 } } },
                devices: [{ name: "dev-01", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY, services: { tv_api: { environment: { WORKERS: 4 } } } }],
            },
            secretKeys: SECRETS,
        });
        const tv = fleet.devices[0]!.services.find((s) => s.name === "tv_api")!;
        expect(tv.environment).toEqual({ LOG_LEVEL: "DEBUG", SITE: "lobby", TZ: "UTC", WORKERS: "4" });
        expect(tv.serviceEnvironment).toEqual({ LOG_LEVEL: "DEBUG", WORKERS: "4" });
    });

    it("accepts compose-style memory, string cpus, digests and optional services", () => {
        const fleet = parseFleetConfig({
            values: {
                ...validValues(),
                services: { scene_scanner: { memory: "1g", cpus: "0.75" }, orchestrator: { enabled: true } },
                release: { tag: "2.2.0", services: { tv_api: { digest: `sha256:${"a".repeat(64)}` } } },
                orchestrator: { intervalSeconds: 120 },
            },
            secretKeys: SECRETS,
        });
        const svc = Object.fromEntries(fleet.devices[0]!.services.map((s) => [s.name, s]));
        expect(svc.scene_scanner).toMatchObject({ memoryMiB: 1024, cpus: 0.75 });
        expect(svc.tv_api!.image).toEqual({ repository: "ghcr.io/vv-video-ai/tv_api", tag: "2.2.0", digest: `sha256:${"a".repeat(64)}` });
        expect(svc.orchestrator).toBeDefined();
        // Derived variables such as ORCHESTRATOR_INTERVAL are planned in plan/, not here.
        expect(svc.orchestrator!.environment.ORCHESTRATOR_INTERVAL).toBeUndefined();
    });

    it("parses memory sizes", () => {
        expect(parseMemory("512m")).toBe(512);
        expect(parseMemory("2g")).toBe(2048);
        expect(parseMemory("1.5G")).toBe(1536);
        expect(parseMemory("512")).toBeUndefined();
        expect(parseMemory(512)).toBeUndefined();
    });
});

// Each case: what is wrong, the mutation, and a fragment the message must contain
// (field path, the offending value where it is safe to show, and what is allowed).
const cases: [string, (v: Record<string, any>) => void, string[]][] = [
    ["unknown hardware class", (v) => (v.hardwareClass = "raspberry"), ['hardwareClass: unknown hardware class "raspberry"; allowed: jetson, x86, cpu']],
    ["missing hardware class", (v) => delete v.hardwareClass, ["hardwareClass: required"]],
    ["no devices", (v) => (v.devices = []), ["devices: a stack needs at least one device"]],
    ["devices not a list", (v) => (v.devices = "dev-01"), ["devices: ", '(got "dev-01")']],
    ["unknown top-level setting", (v) => (v.hardwareclass = "x86"), ['hardwareclass: unknown setting (did you mean hardwareClass?); allowed: hardwareClass, devices', '(got "x86")']],
    ["unknown service in overrides", (v) => (v.services = { scene_scaner: { cpus: 1 } }), ['services.scene_scaner: unknown service "scene_scaner"; allowed: agent_dvr, scene_scanner']],
    ["unknown service in a device", (v) => (v.devices[0].services = { tvapi: {} }), ['devices[0].services.tvapi: unknown service "tvapi"']],
    ["unknown field in a service override", (v) => (v.services = { tv_api: { mem_limit: "512m" } }), [`services.tv_api.mem_limit: unknown field; allowed: enabled, memoryMiB, memory, cpus, environment, healthcheck, publishAddress (got "512m")`]],
    ["negative memoryMiB", (v) => (v.services = { tv_api: { memoryMiB: -512 } }), ["services.tv_api.memoryMiB: must be between 6 (Docker's minimum) and 32768 MiB for this hardware class (got -512)"]],
    ["memoryMiB with a unit", (v) => (v.services = { tv_api: { memoryMiB: "512m" } }), ['services.tv_api.memoryMiB: must be a whole number of MiB such as 512 (or use memory: "512m") (got "512m")']],
    ["fractional memoryMiB", (v) => (v.services = { tv_api: { memoryMiB: 512.5 } }), ["services.tv_api.memoryMiB: must be a whole number of MiB", "(got 512.5)"]],
    ["unit-less memory", (v) => (v.services = { tv_api: { memory: "512" } }), ['services.tv_api.memory: must be a size with a unit such as 512m or 2g (b, k, m, g) (got "512")']],
    ["memory as a bare number", (v) => (v.services = { tv_api: { memory: 512 } }), ["services.tv_api.memory: must be a size with a unit", "(got 512)"]],
    ["memory and memoryMiB together", (v) => (v.services = { tv_api: { memory: "1g", memoryMiB: 1024 } }), ["services.tv_api.memory: set either memoryMiB or memory, not both"]],
    ["memory beyond the class", (v) => (v.services = { scene_summarizer: { memory: "64g" } }), ['services.scene_summarizer.memory: must be between 6m and 32768m for this hardware class (got "64g")']],
    ["cpus beyond the class", (v) => (v.hardwareClass = "cpu", v.services = { scene_summarizer: { cpus: 4 } }), ["services.scene_summarizer.cpus: must be more than 0 and at most 2, the CPUs of this hardware class (got 4)"]],
    ["zero cpus", (v) => (v.services = { tv_api: { cpus: 0 } }), ["services.tv_api.cpus: must be more than 0 and at most 12", "(got 0)"]],
    ["cpus not a number", (v) => (v.services = { tv_api: { cpus: "two" } }), ['services.tv_api.cpus: must be a number of CPUs such as 0.5 or 1.5 (got "two")']],
    ["cpus finer than 0.01", (v) => (v.services = { tv_api: { cpus: 0.333 } }), ["services.tv_api.cpus: must be a multiple of 0.01 (got 0.333)"]],
    ["device cpus beyond the class", (v) => (v.devices[0].services = { tv_api: { cpus: 13 } }), ["devices[0].services.tv_api.cpus: must be more than 0 and at most 12"]],
    ["duplicate device names", (v) => v.devices.push({ name: "dev-01", host: "10.1.0.6", hostPublicKey: TEST_HOST_KEY }), ['devices[1].name: duplicate device name; devices[0] already uses it (got "dev-01")']],
    ["two entries for one device", (v) => v.devices.push({ name: "dev-02", host: "10.1.0.5", hostPublicKey: TEST_HOST_KEY }), ["devices[1].host: devices[0] already deploys to 10.1.0.5:22; one device, one entry"]],
    ["one device under another user name and letter case", (v) => {
        v.devices[0].host = "edge-01.example.com";
        v.devices.push({ name: "dev-02", host: "EDGE-01.example.com", user: "root", hostPublicKey: TEST_HOST_KEY });
    }, ['devices[1].host: devices[0] already deploys to edge-01.example.com:22; one device, one entry (got "EDGE-01.example.com")']],
    ["IPv4 address with a number over 255", (v) => (v.devices[0].host = "999.1.1.1"), ['devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "999.1.1.1")']],
    ["IPv4 address ending in 256", (v) => (v.devices[0].host = "10.1.0.256"), ['devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "10.1.0.256")']],
    ["IPv6 address in brackets", (v) => (v.devices[0].host = "[fd00::5]"), ['devices[0].host: must be written without brackets: fd00::5 (an IPv6 address; the SSH port has its own field, port) (got "[fd00::5]")']],
    ["storage root with ':'", (v) => (v.videoStorageRoot = "/srv/video:ro"), ["videoStorageRoot: must not contain ':' or ',', which Docker's bind mounts use as separators (got \"/srv/video:ro\")"]],
    ["storage root with ','", (v) => (v.devices[0].videoStorageRoot = "/srv/a,b"), ["devices[0].videoStorageRoot: must not contain ':' or ','"]],
    ["registry user name with ':'", (v) => (v.registry.username = "vv:deploy"), ["registry.username: must not contain ':' or white space"]],
    ["registry user name with a newline", (v) => (v.registry.username = "vv\ndeploy"), ["registry.username: must not contain ':' or white space"]],
    ["a service watched twice", (v) => (v.watchtower = { services: ["agent_dvr", "scene_scanner", "agent_dvr"] }), ['watchtower.services[2]: named twice (first at watchtower.services[0]) (got "agent_dvr")']],
    ["a tag and a digest for one service", (v) => (v.release = { tag: "2.2.0", services: { tv_api: { tag: "2.2.1", digest: `sha256:${"a".repeat(64)}` } } }), ["release.services.tv_api.digest: give either a tag or a digest for one service, not both"]],
    ["device name not a DNS label", (v) => (v.devices[0].name = "Lobby_01"), ['devices[0].name: must be a lower-case DNS label', '(got "Lobby_01")']],
    ["bad host", (v) => (v.devices[0].host = "10.1.0.5; rm -rf /"), ["devices[0].host: must be a host name, an IPv4 address or an IPv6 address (without brackets)"]],
    ["port out of range", (v) => (v.devices[0].port = 70000), ["devices[0].port: must be a TCP port, 1-65535 (got 70000)"]],
    ["missing host key", (v) => delete v.devices[0].hostPublicKey, ["devices[0].hostPublicKey: required"]],
    ["host key with a host name prefix", (v) => (v.devices[0].hostPublicKey = `10.1.0.5 ${TEST_HOST_KEY}`), ["devices[0].hostPublicKey: must be the device's SSH host public key as `<type> <base64>`"]],
    ["relative storage root", (v) => (v.videoStorageRoot = "storage/video"), ['videoStorageRoot: must be an absolute path on the device, such as /srv/vv-video (got "storage/video")']],
    ["storage root with ..", (v) => (v.videoStorageRoot = "/srv/../etc"), ['videoStorageRoot: must be a normalised absolute path without \'..\' or \'//\'', '(got "/srv/../etc")']],
    ["storage root in a system directory", (v) => (v.devices[0].videoStorageRoot = "/var/lib/docker/volumes/x"), ['devices[0].videoStorageRoot: must not be inside /var/lib/docker, which belongs to the operating system or Docker (got "/var/lib/docker/volumes/x")']],
    ["storage root is /", (v) => (v.videoStorageRoot = "/"), ['videoStorageRoot: must be a normalised absolute path']],
    ["malformed tag", (v) => (v.release = { tag: "v1 beta" }), ['release.tag: must be an image tag', '(got "v1 beta")']],
    ["malformed digest", (v) => (v.release = { tag: "1.0", services: { tv_api: { digest: "sha256:xyz" } } }), ['release.services.tv_api.digest: must be sha256: followed by 64 lower-case hex digits (got "sha256:xyz")']],
    ["repository with a tag in it", (v) => (v.release = { tag: "1.0", services: { tv_api: { repository: "ghcr.io/acme/tv_api:1.0" } } }), ['release.services.tv_api.repository: must be an image repository such as ghcr.io/my-org/tv_api (lower case, no tag or digest) (got "ghcr.io/acme/tv_api:1.0")']],
    ["upper-case repository", (v) => (v.release = { tag: "1.0", services: { tv_api: { repository: "ghcr.io/Acme/TV" } } }), ["release.services.tv_api.repository: must be an image repository"]],
    ["no release for a service", (v) => (v.release = {}), ["release.services.agent_dvr: needs a tag or digest; set release.tag"]],
    ["unknown release field", (v) => (v.release = { tag: "1.0", version: "2" }), ['release.version: unknown field; allowed: tag, services (got "2")']],
    ["registry server with a scheme", (v) => (v.registry.server = "https://ghcr.io"), ['registry.server: must be a registry host such as ghcr.io or registry.local:5000 (got "https://ghcr.io")']],
    ["missing registry username", (v) => (v.registry = {}), ["registry.username: required"]],
    ["registry token inside the registry block", (v) => (v.registry.token = "ghp_plaintext"), ["registry.token: credentials do not belong in the registry block"]],
    ["registry token in plain text", (v) => v, ["registryToken: is stored in plain text in the stack file; remove it and set it as a secret"]],
    ["missing registry token", (v) => delete v.registryToken, ["registryToken: required; set it as a secret: `pulumi config set --secret registryToken <token>`"]],
    ["missing deploy key", (v) => delete v.sshPrivateKey, ["sshPrivateKey: required; set it as a secret"]],
    ["deploy key that is not a key", (v) => (v.sshPrivateKey = "hunter2"), ["sshPrivateKey: must be a PEM/OpenSSH private key"]],
    ["private key inside a device", (v) => (v.devices[0].sshPrivateKey = TEST_PRIVATE_KEY), ["devices[0].sshPrivateKey: private keys do not belong in the device list"]],
    ["credential-looking environment", (v) => (v.environment = { GHCR_TOKEN: "x" }), ["environment.GHCR_TOKEN: looks like a credential; environment in the stack file is plain text and visible in `docker inspect`"]],
    ["bad environment name", (v) => (v.environment = { "LOG-LEVEL": "INFO" }), ["environment.LOG-LEVEL: environment variable names must match [A-Za-z_][A-Za-z0-9_]*"]],
    ["environment value that is an object", (v) => (v.services = { tv_api: { environment: { OPTS: { a: 1 } } } }), ["services.tv_api.environment.OPTS: environment values must be strings, numbers or booleans"]],
    ["watchtower watching itself", (v) => (v.watchtower = { services: ["watchtower"] }), ['watchtower.services[0]: watchtower only watches the video services, not the fleet\'s own agents (got "watchtower")']],
    ["watchtower watching a disabled service", (v) => (v.watchtower = { services: ["orchestrator"] }), ['watchtower.services[0]: service is not enabled on any device (got "orchestrator")']],
    ["watchtower interval too short", (v) => (v.watchtower = { intervalSeconds: 5 }), ["watchtower.intervalSeconds: must be at least 30 seconds (got 5)"]],
    ["self-monitor allowed no restarts", (v) => (v.selfMonitor = { maxRestarts: 0 }), ["selfMonitor.maxRestarts: must be 1-100 restarts (got 0)"]],
    ["self-monitor restarts not a whole number", (v) => (v.selfMonitor = { maxRestarts: 2.5 }), ["selfMonitor.maxRestarts: must be a whole number of restarts (got 2.5)"]],
    ["self-monitor restart window too short", (v) => (v.selfMonitor = { restartWindowSeconds: 10 }), ["selfMonitor.restartWindowSeconds: must be at least 60 seconds (got 10)"]],
    ["self-monitor restart window too long", (v) => (v.selfMonitor = { restartWindowSeconds: 700000 }), ["selfMonitor.restartWindowSeconds: must be at most 604800 seconds (7 days) (got 700000)"]],
    ["self-monitor restart window shorter than its interval", (v) => (v.selfMonitor = { intervalSeconds: 600, restartWindowSeconds: 300 }), ["selfMonitor.restartWindowSeconds: must be at least selfMonitor.intervalSeconds (600) (got 300)"]],
    ["log rotation of zero files", (v) => (v.logging = { maxFiles: 0 }), ["logging.maxFiles: ", "(got 0)"]],
    ["healthcheck override of the command", (v) => (v.services = { tv_api: { healthcheck: { test: ["CMD", "true"] } } }), ["services.tv_api.healthcheck.test: unknown field; allowed: intervalSeconds, timeoutSeconds, retries, startPeriodSeconds, startIntervalSeconds"]],
    ["healthcheck timeout longer than its interval", (v) => (v.services = { tv_api: { healthcheck: { intervalSeconds: 10, timeoutSeconds: 20 } } }), ["services.tv_api.healthcheck.timeoutSeconds: must not exceed intervalSeconds (10) (got 20)"]],
    ["healthcheck retries of zero", (v) => (v.devices[0].services = { tv_api: { healthcheck: { retries: 0 } } }), ["devices[0].services.tv_api.healthcheck.retries: must be at least 1 (got 0)"]],
    ["enabled not a boolean", (v) => (v.services = { orchestrator: { enabled: "yes" } }), ['services.orchestrator.enabled: must be true or false (got "yes")']],
];

describe("parseFleetConfig rejects bad input with the field, the value and what is allowed", () => {
    it.each(cases)("%s", (_title, mutate, fragments) => {
        const secretKeys = _title === "registry token in plain text" ? new Set(["sshPrivateKey"]) : SECRETS;
        const problems = problemsOf(mutate, secretKeys);
        const text = problems.join("\n");
        for (const f of fragments) expect(text).toContain(f);
    });

    it("reports every problem at once", () => {
        const problems = problemsOf((v) => {
            v.hardwareClass = "arm";
            v.devices[0].port = 0;
            v.services = { tv_api: { cpus: -1 } };
        });
        expect(problems.length).toBeGreaterThanOrEqual(2);
    });

    it("never echoes a secret value", () => {
        const problems = problemsOf((v) => {
            v.registryToken = "ghp_plaintextTopLevel";
            v.registry.token = "ghp_plaintextvalue";
            v.devices[0].sshPrivateKey = TEST_PRIVATE_KEY;
        }, new Set());
        const text = problems.join("\n");
        expect(text).not.toContain("ghp_plaintextvalue");
        expect(text).not.toContain("PRIVATE KEY");
        expect(text).not.toContain("ghp_plaintextTopLevel");
    });

    it("says no device was contacted", () => {
        expect(() => parseFleetConfig({ values: { ...validValues(), hardwareClass: "arm" }, secretKeys: SECRETS })).toThrow(/no device was contacted/);
    });
});

describe("allowed fields in messages", () => {
    it("come from the schemas, without the fields that only exist to refuse credentials", () => {
        expect(allowedKeysAt([])).toEqual(Object.keys(fleetSchema.shape));
        expect(allowedKeysAt(["registry"])).toEqual(["server", "username", "namespace"]);
        expect(allowedKeysAt(["devices", 0])).toEqual(["name", "host", "port", "user", "hostPublicKey", "videoStorageRoot", "services"]);
        expect(allowedKeysAt(["devices", 0, "services", "tv_api", "healthcheck"])).toEqual(["intervalSeconds", "timeoutSeconds", "retries", "startPeriodSeconds", "startIntervalSeconds"]);
        expect(allowedKeysAt(["release", "services", "tv_api"])).toEqual(["repository", "tag", "digest"]);
        expect(allowedKeysAt(["environment"])).toBeUndefined();
    });
});

describe("device addresses", () => {
    it("accepts an IPv6 address, and a digest for one service beside the release tag", () => {
        const values = { ...validValues(), devices: [{ name: "dev-01", host: "fd00::5", hostPublicKey: TEST_HOST_KEY }], release: { tag: "2.2.0", services: { tv_api: { digest: `sha256:${"a".repeat(64)}` } } } };
        const fleet = parseFleetConfig({ values, secretKeys: new Set(["sshPrivateKey", "registryToken"]) });
        expect(fleet.devices[0]!.host).toBe("fd00::5");
        expect(fleet.devices[0]!.services.find((x) => x.name === "tv_api")!.image.digest).toBe(`sha256:${"a".repeat(64)}`);
    });
});

describe("secret values in configuration errors", () => {
    const TOKEN = "ghp_s3cr3tT0kenValue1234";
    function messageOf(values: Record<string, any>, secretKeys: string[]): string {
        try {
            parseFleetConfig({ values, secretKeys: new Set(["sshPrivateKey", "registryToken", ...secretKeys]) });
        } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            return (e as ConfigError).message;
        }
        throw new Error("expected a ConfigError");
    }

    it("are never echoed, whatever the key, even a mistyped one", () => {
        const msg = messageOf({ ...validValues(), registrytoken: TOKEN }, ["registrytoken"]);
        expect(msg).toContain("registrytoken: unknown setting");
        expect(msg).toContain("its value is not shown");
        expect(msg).not.toContain(TOKEN);
    });

    it("are not echoed by schema or semantic checks of a setting stored as a secret", () => {
        const secretClass = "class-" + TOKEN;
        const values = { ...validValues(), hardwareClass: secretClass, environment: { API: TOKEN }, devices: [{ name: TOKEN.toLowerCase(), host: TOKEN, hostPublicKey: TEST_HOST_KEY }] };
        const msg = messageOf(values, ["hardwareClass", "environment", "devices"]);
        expect(msg).toMatch(/hardwareClass: .*not shown/);
        for (const s of [secretClass, TOKEN, TOKEN.toLowerCase()]) expect(msg).not.toContain(s);
    });

    it("are not echoed when a plain setting's message would quote them", () => {
        const msg = messageOf({ ...validValues(), registryToken: TOKEN, registry: { username: "u", server: TOKEN } }, []);
        expect(msg).toContain("registry.server");
        expect(msg).not.toContain(TOKEN);
    });
});
