import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { parseFleetConfig } from "../../config/parse";
import { FleetStack, readStackConfig } from "../../rollout/pulumiStack";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

// Lower case, so that it is also a valid device name and host name label.
const SECRET = "zx81qt7vlm2nw9rk4hs6";
const TOKEN = "ghp_Zx81qT7vLm2Nw9Rk4Hs6";

const device = (name: string, host: string, more: Record<string, unknown> = {}) => ({ name, host, hostPublicKey: TEST_HOST_KEY, ...more });
const stack = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    hardwareClass: "cpu",
    registry: { username: "vv-deploy" },
    release: { tag: "2.2.0" },
    devices: [device("dev-01", "10.1.0.5")],
    sshPrivateKey: TEST_PRIVATE_KEY,
    registryToken: TOKEN,
    ...over,
});

/** The error's text and its problems, as every caller could print them. */
function errorText(values: Record<string, unknown>, secretKeys: readonly string[]): string {
    try {
        parseFleetConfig({ values, secretKeys: new Set(["sshPrivateKey", "registryToken", ...secretKeys]) });
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return `${(e as ConfigError).message}\n${JSON.stringify((e as ConfigError).problems)}\n${inspect(e)}`;
    }
    throw new Error("expected a ConfigError");
}

/** Not the secret, and no 8 characters of it in a row: a shortened value must not show a piece either. */
function expectHidden(text: string, ...secrets: string[]): void {
    for (const s of secrets) {
        for (let i = 0; i + 8 <= s.length; i++) expect(text, `a piece of the secret: ${s.slice(i, i + 8)}`).not.toContain(s.slice(i, i + 8));
    }
}

describe("no configuration error shows a secret value", () => {
    it("stored under a mistyped key", () => {
        const text = errorText(stack({ registrytoken: TOKEN, registryToken: undefined }), ["registrytoken"]);
        expect(text).toContain(
            "registrytoken: unknown setting (did you mean registryToken?); allowed: hardwareClass, devices, videoStorageRoot, registry, release, services, environment, logging, watchtower, selfMonitor, orchestrator, stopGraceSeconds, healthcheckStartIntervalSeconds, rollout, shards, sshPrivateKey, registryToken, serviceSecrets (the setting is a secret; its value is not shown)",
        );
        expect(text).toContain("registryToken: required; set it as a secret");
        expectHidden(text, TOKEN);
    });

    it("pasted in plain text under a mistyped key that names a credential", () => {
        const text = errorText(stack({ registry_password: TOKEN }), []);
        expect(text).toContain("registry_password: unknown setting; allowed: ");
        expectHidden(text, TOKEN);
    });

    it("of a secret setting that fails its schema", () => {
        const text = errorText(stack({ hardwareClass: `x-${SECRET}`, registry: { username: `vv:${SECRET}`, server: `https://${SECRET}` } }), ["hardwareClass", "registry"]);
        expect(text).toContain("hardwareClass: unknown hardware class");
        expect(text).toContain("registry.username: must not contain ':' or white space (Docker joins it to the token with ':') (the setting is a secret; its value is not shown)");
        expect(text).toContain("registry.server: must be a registry host such as ghcr.io or registry.local:5000 (the setting is a secret; its value is not shown)");
        expectHidden(text, SECRET);
    });

    it("of a secret setting that fails a semantic check", () => {
        const text = errorText(stack({ services: { tv_api: { cpus: 4, memory: `${SECRET}` } }, videoStorageRoot: `/srv/${SECRET}:ro` }), ["services", "videoStorageRoot"]);
        expect(text).toContain("services.tv_api.cpus: must be more than 0 and at most 2, the CPUs of this hardware class (the setting is a secret; its value is not shown)");
        expect(text).toContain("videoStorageRoot: must not contain ':' or ','");
        expectHidden(text, SECRET);
    });

    it("quoted by a rollout strategy check", () => {
        const devices = [device("dev-01", "10.1.0.5"), device(SECRET, "10.1.0.6")];
        const text = errorText(stack({ devices, rollout: { canary: ["dev-09", SECRET, SECRET], maxFailed: "150%" }, deployName: SECRET }), ["deployName"]);
        expect(text).toContain('rollout.canary[0]: not a device of this stack; devices: dev-01, <secret> (got "dev-09")');
        expect(text).toContain("rollout.canary[2]: named twice (got <secret>)");
        expectHidden(text, SECRET);
        const secretStrategy = errorText(stack({ rollout: { canary: [SECRET], waveSize: 2, waveGrowthFactor: 3 } }), ["rollout"]);
        expect(secretStrategy).toContain("rollout.canary[0]: not a device of this stack; devices: dev-01 (the setting is a secret; its value is not shown)");
        expectHidden(secretStrategy, SECRET);
    });

    it("nested inside a secret object and quoted elsewhere", () => {
        const registry = { username: "vv-deploy", namespace: "vv", extra: { note: SECRET } };
        const text = errorText(stack({ registry, release: { tag: "1.0", services: { tv_api: { repository: `ghcr.io/${SECRET}/TV` } } } }), ["registry"]);
        expect(text).toContain("registry.extra: unknown field; allowed: server, username, namespace (the setting is a secret; its value is not shown)");
        expect(text).toContain('release.services.tv_api.repository: must be an image repository such as ghcr.io/my-org/tv_api (lower case, no tag or digest) (got "ghcr.io/<secret>/TV")');
        expectHidden(text, SECRET);
    });

    it("equal to a value at another path, however short", () => {
        const devices = [device(SECRET, "10.1.0.5"), device(SECRET, "10.1.0.6")];
        const text = errorText(stack({ devices, siteCode: SECRET }), ["siteCode"]);
        expect(text).toContain("devices[1].name: duplicate device name; devices[0] already uses it (got <secret>)");
        expectHidden(text, SECRET);
        const short = errorText(stack({ stopGraceSeconds: 4242424, pin: 4242424, watchtower: { services: ["pin42", "tv_api"] }, pin2: "pin42" }), ["pin", "pin2"]);
        expect(short).toContain("stopGraceSeconds: must be 0-600 seconds (got <secret>)");
        expect(short).toContain("watchtower.services[0]: unknown service <secret>; allowed: ");
        expect(short).not.toContain("4242424");
        expect(short).not.toContain('"pin42"');
    });

    it("inside a larger string: a host, an environment value, a key, a long value cut short", () => {
        const host = `${"a".repeat(64)}.${SECRET}.example.com`;
        const text = errorText(
            stack({
                devices: [device("dev-01", host), device("dev-02", `${SECRET}.example.com`), device("dev-03", `${SECRET}.EXAMPLE.com`)],
                environment: { OPTS: { flags: `--token=${SECRET} --verbose` } },
                services: { [`${SECRET}_svc`]: {} },
                registry: { username: "vv-deploy", namespace: `${"x".repeat(70)}${SECRET}/Bad` },
                apiKeys: SECRET,
            }),
            ["apiKeys"],
        );
        expect(text).toContain("devices[0].host: must be a host name, an IPv4 address or an IPv6 address (without brackets)");
        expect(text).toContain('devices[2].host: devices[1] already deploys to <secret>.example.com:22; one device, one entry (got "<secret>.EXAMPLE.com")');
        expect(text).toContain("environment.OPTS: environment values must be strings, numbers or booleans");
        expect(text).toContain("services.<secret>_svc: unknown service");
        expect(text).toContain("registry.namespace: must be a lower-case repository path");
        expectHidden(text, SECRET);
    });

    it("with quotes or a newline in it, as JSON escapes it in a value", () => {
        const secret = 'pa"ss\nword-7Qx91LmZ';
        const text = errorText(stack({ logging: { maxFiles: `x${secret}`, maxSizeMiB: { a: secret } }, passphrase: secret }), ["passphrase"]);
        expect(text).toContain("logging.maxFiles: must be a number");
        for (const s of [secret, JSON.stringify(secret).slice(1, -1)]) expectHidden(text, s);
    });

    it("of the deploy key, in plain text or inside a device", () => {
        const text = errorText(stack({ devices: [device("dev-01", "10.1.0.5", { sshPrivateKey: TEST_PRIVATE_KEY })], deployKey: TEST_PRIVATE_KEY }), []);
        expect(text).toContain("devices[0].sshPrivateKey: private keys do not belong in the device list");
        expect(text).toContain("deployKey: unknown setting");
        expect(text).not.toContain("PRIVATE KEY-----");
        expectHidden(text, TEST_PRIVATE_KEY.split("\n")[1]!);
    });
});

describe("reading a stack's configuration for `edge-fleet rollout` and `drift`", () => {
    const savedPath = process.env.PATH;
    afterEach(() => {
        process.env.PATH = savedPath;
    });

    /** A `pulumi` on the PATH that prints `stdout`, `stderr` and exits with `code`. */
    function fakePulumi(stdout: string, stderr: string, code: number): FleetStack {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-fake-pulumi-"));
        fs.writeFileSync(path.join(dir, "out"), stdout);
        fs.writeFileSync(path.join(dir, "err"), stderr);
        fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\ncat "${dir}/out"\ncat "${dir}/err" >&2\nexit ${code}\n`, { mode: 0o755 });
        process.env.PATH = `${dir}:${savedPath}`;
        return { name: "unit", workspace: { workDir: dir } } as unknown as FleetStack;
    }

    const configJson = (over: Record<string, unknown>) =>
        JSON.stringify({
            "edge-fleet:hardwareClass": { value: "cpu", secret: false },
            "edge-fleet:registry": { value: "{}", objectValue: { username: "vv-deploy" }, secret: false },
            "edge-fleet:release": { value: "{}", objectValue: { tag: "1.0.0" }, secret: false },
            "edge-fleet:devices": { value: "[]", objectValue: [device("dev-01", "10.1.0.5")], secret: false },
            "edge-fleet:sshPrivateKey": { value: TEST_PRIVATE_KEY, secret: true },
            ...over,
        });

    async function failureOf(p: Promise<unknown>): Promise<string> {
        const e: unknown = await p.then(
            () => undefined,
            (x: unknown) => x,
        );
        expect(e).toBeInstanceOf(Error);
        return `${(e as Error).message}\n${inspect(e)}`;
    }

    it("fails without quoting output that is not JSON", async () => {
        const s = fakePulumi(`warning: ${TOKEN}\n${configJson({})}`, "", 0);
        const text = await failureOf(readStackConfig(s));
        expect((text.split("\n")[0])).toBe("could not read the configuration of stack unit: `pulumi config --json` did not print JSON");
        expectHidden(text, TOKEN);
    });

    it("fails with the command's error line only, not its output", async () => {
        const s = fakePulumi(configJson({ "edge-fleet:registryToken": { value: TOKEN, secret: true } }), "warning: something\nerror: could not decrypt configuration value\n", 255);
        const text = await failureOf(readStackConfig(s));
        expect(text.split("\n")[0]).toBe("could not read the configuration of stack unit: could not decrypt configuration value");
        expectHidden(text, TOKEN);
    });

    it("marks a secret under a mistyped key as a secret, so that the configuration error hides it", async () => {
        const s = fakePulumi(configJson({ "edge-fleet:registrytoken": { value: TOKEN, secret: true }, "edge-fleet:registryPin": { value: "90817263", secret: true }, "edge-fleet:stopGraceSeconds": { value: "90817263", secret: false } }), "", 0);
        const raw = await readStackConfig(s);
        expect([...raw.secretKeys].sort()).toEqual(["registryPin", "registrytoken", "sshPrivateKey"]);
        const text = errorText(raw.values, [...raw.secretKeys]);
        expect(text).toContain("registrytoken: unknown setting (did you mean registryToken?)");
        expect(text).toContain("stopGraceSeconds: must be 0-600 seconds (got <secret>)");
        expectHidden(text, TOKEN, "90817263");
    });
});
