import { describe, expect, it } from "vitest";
import { ConfigError, formatProblem } from "../../config/errors";
import { parseFleetConfig } from "../../config/parse";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

const SECRETS = new Set(["sshPrivateKey", "registryToken"]);
const DIGEST = `sha256:${"b".repeat(64)}`;
const device = (name: string, host: string, more: Record<string, unknown> = {}) => ({ name, host, hostPublicKey: TEST_HOST_KEY, ...more });
const stack = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    hardwareClass: "x86",
    registry: { username: "vv-deploy" },
    release: { tag: "2.2.0" },
    devices: [device("depot-01", "10.1.0.5")],
    sshPrivateKey: TEST_PRIVATE_KEY,
    registryToken: "ghp_unitTestToken",
    ...over,
});

function problemsOf(values: Record<string, unknown>): string[] {
    try {
        parseFleetConfig({ values, secretKeys: SECRETS });
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems.map(formatProblem);
    }
    throw new Error("expected a ConfigError");
}

describe("refused with the field, the value and what is allowed", () => {
    it.each<[string, Record<string, unknown>, string]>([
        ["an IPv4 address with a number over 255", { devices: [device("depot-01", "999.1.1.1")] }, 'devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "999.1.1.1")'],
        ["an IPv4 address ending in 256", { devices: [device("depot-01", "10.1.0.256")] }, 'devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "10.1.0.256")'],
        ["a shortened IPv4 address, which ssh would read as another", { devices: [device("depot-01", "10.1.5")] }, 'devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "10.1.5")'],
        ["an IPv4 address with a leading zero, which ssh reads as octal", { devices: [device("depot-01", "10.1.0.010")] }, 'devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "10.1.0.010")'],
        ["a hexadecimal IPv4 address", { devices: [device("depot-01", "0x7f.0.0.1")] }, 'devices[0].host: must be a valid IPv4 address (four numbers 0-255, no leading zeros) (got "0x7f.0.0.1")'],
        [
            "an IPv6 address in brackets",
            { devices: [device("depot-01", "[fd00::5]")] },
            'devices[0].host: must be written without brackets: fd00::5 (an IPv6 address; the SSH port has its own field, port) (got "[fd00::5]")',
        ],
        ["a malformed IPv6 address", { devices: [device("depot-01", "fd00:::5")] }, 'devices[0].host: must be a host name, an IPv4 address or an IPv6 address (without brackets) (got "fd00:::5")'],
        ["a storage root with ':'", { videoStorageRoot: "/srv/video:ro" }, "videoStorageRoot: must not contain ':' or ',', which Docker's bind mounts use as separators (got \"/srv/video:ro\")"],
        [
            "a device's storage root with ','",
            { devices: [device("depot-01", "10.1.0.5", { videoStorageRoot: "/srv/a,b" })] },
            "devices[0].videoStorageRoot: must not contain ':' or ',', which Docker's bind mounts use as separators (got \"/srv/a,b\")",
        ],
        ["a registry user name with ':'", { registry: { username: "vv:deploy" } }, "registry.username: must not contain ':' or white space (Docker joins it to the token with ':') (got \"vv:deploy\")"],
        ["a registry user name with a newline", { registry: { username: "vv\ndeploy" } }, "registry.username: must not contain ':' or white space (Docker joins it to the token with ':') (got \"vv\\ndeploy\")"],
        [
            "one device under another user name and letter case",
            { devices: [device("depot-01", "edge-01.example.com"), device("depot-02", "EDGE-01.Example.COM", { user: "root" })] },
            'devices[1].host: devices[0] already deploys to edge-01.example.com:22; one device, one entry (got "EDGE-01.Example.COM")',
        ],
        [
            "one device with its default port written out",
            { devices: [device("depot-01", "10.1.0.5"), device("depot-02", "10.1.0.5", { port: 22, user: "ops" })] },
            'devices[1].host: devices[0] already deploys to 10.1.0.5:22; one device, one entry (got "10.1.0.5")',
        ],
        [
            "one IPv6 device in two spellings",
            { devices: [device("depot-01", "fd00::5"), device("depot-02", "FD00:0:0::5")] },
            'devices[1].host: devices[0] already deploys to [fd00::5]:22; one device, one entry (got "FD00:0:0::5")',
        ],
        ["a service watched twice", { watchtower: { services: ["agent_dvr", "tv_api", "agent_dvr"] } }, 'watchtower.services[2]: named twice (first at watchtower.services[0]) (got "agent_dvr")'],
        [
            "a tag and a digest for one service",
            { release: { tag: "2.2.0", services: { tv_api: { tag: "2.2.1", digest: DIGEST } } } },
            `release.services.tv_api.digest: give either a tag or a digest for one service, not both (a digest pins exactly; the tag would be ignored) (got "${DIGEST}")`,
        ],
    ])("%s", (_title, over, expected) => {
        expect(problemsOf(stack(over))).toEqual([expected]);
    });
});

describe("accepted device addresses", () => {
    it("takes IPv6 addresses without brackets, and one host on two ports as two devices", () => {
        const fleet = parseFleetConfig({
            values: stack({ devices: [device("depot-01", "fd00::5"), device("depot-02", "::ffff:10.1.0.7"), device("depot-03", "10.1.0.5", { port: 2222 }), device("depot-04", "10.1.0.5")] }),
            secretKeys: SECRETS,
        });
        expect(fleet.devices.map((d) => `${d.host} ${d.port}`)).toEqual(["fd00::5 22", "::ffff:10.1.0.7 22", "10.1.0.5 2222", "10.1.0.5 22"]);
    });
});

describe("the shards setting", () => {
    it("defaults to one stack for the whole fleet", () => {
        expect(parseFleetConfig({ values: stack(), secretKeys: SECRETS }).shards).toBe(1);
        expect(parseFleetConfig({ values: stack({ shards: 40 }), secretKeys: SECRETS }).shards).toBe(40);
    });

    it.each<[unknown, string]>([
        [0, "shards: must be 1-1000 stacks (got 0)"],
        [1001, "shards: must be 1-1000 stacks (got 1001)"],
        [2.5, "shards: must be a whole number of stacks (got 2.5)"],
    ])("refuses %s with the field, the value and what is allowed", (shards, message) => {
        expect(problemsOf(stack({ shards }))).toContain(message);
    });
});
