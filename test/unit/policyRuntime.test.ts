import { describe, expect, it } from "vitest";
import { healthchecks, logRotation, restartPolicy } from "../../policy/rules/runtime";
import { container, violations } from "./policyHarness";

describe("healthchecks", () => {
    it("passes a service that keeps its healthcheck", async () => {
        expect(await violations(healthchecks, container())).toEqual([]);
    });
    it("refuses a service of the defaults table without one, or with it switched off", async () => {
        expect(await violations(healthchecks, container({ healthcheck: undefined }, "playlist_manager"))).toEqual(["playlist_manager on dev-1 has no healthcheck"]);
        expect(await violations(healthchecks, container({ healthcheck: { tests: ["NONE"] } }))).toEqual(["tv_api on dev-1 has no healthcheck"]);
    });
    it("leaves a container the project does not know alone", async () => {
        expect(await violations(healthchecks, container({ healthcheck: undefined }, "something_else"))).toEqual([]);
    });
});

describe("restart-policy", () => {
    it("passes always, unless-stopped, and on-failure with a cap", async () => {
        for (const p of [{ restart: "always" }, { restart: "unless-stopped" }, { restart: "on-failure", maxRetryCount: 5 }]) {
            expect(await violations(restartPolicy, container(p))).toEqual([]);
        }
    });
    it("refuses no policy, `no`, and on-failure without a cap", async () => {
        expect(await violations(restartPolicy, container({ restart: undefined }))).toEqual([
            "tv_api on dev-1 has restart policy unset; allowed: always, unless-stopped, on-failure",
        ]);
        expect(await violations(restartPolicy, container({ restart: "no" }))).toHaveLength(1);
        expect(await violations(restartPolicy, container({ restart: "on-failure", maxRetryCount: 0 }))).toEqual([
            "tv_api on dev-1 restarts on-failure without a retry cap (maxRetryCount)",
        ]);
    });
});

describe("log-rotation", () => {
    it("passes json-file with max-size and max-file", async () => {
        expect(await violations(logRotation, container())).toEqual([]);
    });
    it("refuses another driver, and json-file that does not rotate", async () => {
        expect(await violations(logRotation, container({ logDriver: "journald" }))).toEqual(["tv_api on dev-1 logs with journald, not json-file"]);
        expect(await violations(logRotation, container({ logDriver: undefined }))).toEqual(["tv_api on dev-1 logs with the daemon's default driver, not json-file"]);
        expect(await violations(logRotation, container({ logOpts: { "max-size": "10m" } }))).toEqual(["tv_api on dev-1's json-file log does not rotate: max-file unset"]);
    });
});
