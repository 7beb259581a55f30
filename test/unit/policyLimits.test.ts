import { describe, expect, it } from "vitest";
import { deviceMemoryBudget, limits } from "../../policy/rules/limits";
import { fixedContext } from "../../policy/settings";
import { SETTINGS, container, stackViolations, violations } from "./policyHarness";

const cpuClass = limits(fixedContext(SETTINGS));

describe("memory-and-cpu-limits", () => {
    it("passes memory, an equal swap limit and CPUs within the class's bounds", async () => {
        expect(await violations(cpuClass, container())).toEqual([]);
        expect(await violations(cpuClass, container({ memory: 16384, memorySwap: 16384, cpus: "2" }))).toEqual([]);
    });
    it("refuses a container without limits", async () => {
        expect(await violations(cpuClass, container({ memory: undefined, memorySwap: undefined, cpus: undefined }))).toEqual([
            "tv_api on dev-1 has no memory limit",
            "tv_api on dev-1 has no CPU limit",
        ]);
    });
    it("refuses a swap limit other than the memory limit", async () => {
        expect(await violations(cpuClass, container({ memorySwap: 1024 }))).toEqual(["tv_api on dev-1's swap limit is 1024, not its memory limit 512 MiB"]);
        expect(await violations(cpuClass, container({ memorySwap: undefined }))).toEqual(["tv_api on dev-1's swap limit is unset, not its memory limit 512 MiB"]);
    });
    it("refuses limits beyond the stack's hardware class", async () => {
        expect(await violations(cpuClass, container({ memory: 20000, memorySwap: 20000, cpus: "4" }))).toEqual([
            "tv_api on dev-1's memory limit 20000 MiB exceeds the cpu class's 16384 MiB",
            "tv_api on dev-1's CPU limit 4 exceeds the cpu class's 2",
        ]);
        const jetson = limits(fixedContext({ ...SETTINGS, hardwareClass: "jetson" }));
        expect(await violations(jetson, container({ cpus: "4" }))).toEqual([]);
    });
});

describe("device-memory-budget", () => {
    const budget = deviceMemoryBudget(fixedContext({ ...SETTINGS, deviceMemoryMiB: { "dev-1": 1024 } }));
    it("passes a device whose containers fit its memory, and devices without a setting", async () => {
        const fits = [container({}, "tv_api"), container({}, "agent_dvr"), container({}, "tv_api", "dev-2"), container({}, "agent_dvr", "dev-2"), container({}, "grafana", "dev-2")];
        expect(await stackViolations(budget, fits)).toEqual([]);
    });
    it("reports a device whose containers together exceed it", async () => {
        const over = [container({}, "tv_api"), container({}, "agent_dvr"), container({ memory: 64, memorySwap: 64 }, "self_monitor")];
        expect(await stackViolations(budget, over)).toEqual(["the containers of dev-1 may use 1088 MiB together, more than its 1024 MiB"]);
    });
});
