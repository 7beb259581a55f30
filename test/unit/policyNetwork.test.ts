import { describe, expect, it } from "vitest";
import { pinnedHostKey, publishedPorts, sshOptions } from "../../policy/rules/network";
import { fixedContext } from "../../policy/settings";
import { SETTINGS, container, violations } from "./policyHarness";

const ports = publishedPorts(fixedContext(SETTINGS));

describe("published-ports-allowlist", () => {
    it("passes the allowed ports and containers that publish none", async () => {
        expect(await violations(ports, container())).toEqual([]);
        expect(await violations(ports, container({}, "agent_dvr"))).toEqual([]);
    });
    it("refuses other host ports, random ones and host networking", async () => {
        expect(await violations(ports, container({ ports: [{ internal: 8000, external: 8080 }] }))).toEqual([
            "tv_api on dev-1 publishes host port 8080; allowed: 8000, 3000",
        ]);
        expect(await violations(ports, container({ ports: [{ internal: 8000 }] }))).toEqual(["tv_api on dev-1 publishes host port (random); allowed: 8000, 3000"]);
        expect(await violations(ports, container({ ports: [], networkMode: "host" }))).toHaveLength(1);
    });
    it("takes the allowlist from the stack", async () => {
        const narrow = publishedPorts(fixedContext({ ...SETTINGS, allowedPorts: [3000] }));
        expect(await violations(narrow, container())).toEqual(["tv_api on dev-1 publishes host port 8000; allowed: 3000"]);
    });
});

const PINNED = ["-o", "BatchMode=yes", "-o", "UserKnownHostsFile=/k/known_hosts", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes"];
const provider = (props: Record<string, unknown>) => ({ type: "pulumi:providers:docker", name: "dev-1-docker", props: { host: "ssh://edge@192.0.2.1:22", ...props } });

describe("pinned-host-key", () => {
    it("passes strict checking against a known_hosts of its own, as a list or as the engine's JSON text", async () => {
        expect(await violations(pinnedHostKey, provider({ sshOpts: PINNED }))).toEqual([]);
        expect(await violations(pinnedHostKey, provider({ sshOpts: JSON.stringify(PINNED) }))).toEqual([]);
    });
    it("refuses a connection without the options, or that trusts other known_hosts", async () => {
        expect(await violations(pinnedHostKey, provider({ sshOpts: [] }))).toEqual([
            "the connection dev-1-docker to ssh://edge@192.0.2.1:22 does not pin the device's host key: StrictHostKeyChecking is unset, not yes; no UserKnownHostsFile holds the pinned key; GlobalKnownHostsFile is not /dev/null",
        ]);
        const tofu = PINNED.map((o) => (o === "StrictHostKeyChecking=yes" ? "StrictHostKeyChecking=accept-new" : o));
        expect(await violations(pinnedHostKey, provider({ sshOpts: tofu }))).toHaveLength(1);
        // ssh keeps the first value: a later `yes` does not undo an earlier `no`.
        expect(await violations(pinnedHostKey, provider({ sshOpts: ["-oStrictHostKeyChecking=no", ...PINNED] }))).toHaveLength(1);
    });
    it("refuses a provider that does not reach a device over ssh", async () => {
        expect(await violations(pinnedHostKey, provider({ host: "tcp://192.0.2.1:2375", sshOpts: PINNED }))).toEqual([
            "the connection dev-1-docker reaches tcp://192.0.2.1:2375, not a device over ssh://",
        ]);
    });
    it("reads ssh's option forms", () => {
        expect([...sshOptions(["-o", "StrictHostKeyChecking yes", "-oUserKnownHostsFile=/a", "-i", "/key"])]).toEqual([
            ["stricthostkeychecking", "yes"],
            ["userknownhostsfile", "/a"],
        ]);
    });
});
