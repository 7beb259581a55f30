import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { parseFleetConfig } from "../../config/parse";
import { RolloutStrategy } from "../../config/rolloutStrategy";
import { allowedFailures, batches, crossesAbortThreshold, derivedHealthTimeoutSeconds, engineParallelism, planWaves } from "../../rollout/strategy";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY } from "./harness";

const devices = (n: number) => Array.from({ length: n }, (_, i) => `dev-${String(i + 1).padStart(2, "0")}`);
const SECRETS = new Set(["sshPrivateKey", "registryToken"]);

function parse(rollout: unknown, n = 4) {
    return parseFleetConfig({
        values: {
            hardwareClass: "cpu",
            registry: { username: "u" },
            release: { tag: "1.0.0" },
            devices: devices(n).map((name, i) => ({ name, host: `10.1.0.${i + 2}`, hostPublicKey: TEST_HOST_KEY })),
            ...(rollout === undefined ? {} : { rollout }),
            sshPrivateKey: TEST_PRIVATE_KEY,
            registryToken: "t",
        },
        secretKeys: SECRETS,
    });
}

function problems(rollout: unknown, n = 4): string[] {
    try {
        parse(rollout, n);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}${p.value === undefined ? "" : ` (got ${p.value})`}`);
    }
    throw new Error("expected a ConfigError");
}

const strategy = (over: Partial<RolloutStrategy> = {}): RolloutStrategy => ({ ...parse(undefined).rollout, ...over });

describe("rollout strategy settings", () => {
    it("defaults to one canary, waves doubling, 4 devices at once, 60 s soak, any failure aborting with rollback", () => {
        expect(parse(undefined).rollout).toEqual({
            canary: 1,
            waveGrowthFactor: 2,
            parallelDevices: 4,
            soakSeconds: 60,
            maxFailed: { devices: 0 },
            abortMinDevices: 1,
            unreachableIsFailure: false,
            onFailure: "rollback",
        });
    });

    it("takes canary names, a fixed wave size and a percentage threshold", () => {
        const r = parse({ canary: ["dev-03"], waveSize: 2, maxFailed: "25%", onFailure: "pause", healthTimeoutSeconds: 90 }).rollout;
        expect(r).toMatchObject({ canary: ["dev-03"], waveSize: 2, maxFailed: { percent: 25 }, onFailure: "pause", healthTimeoutSeconds: 90 });
    });

    it("reports every problem at once, with field, value and what is allowed", () => {
        expect(
            problems({ canary: ["dev-09", "dev-01", "dev-01"], waveSize: 0, waveGrowthFactor: 2, maxFailed: "lots", onFailure: "retry", soakSeconds: -1, colour: "red" }),
        ).toEqual([
            // Schema problems, then the checks of what passed (the canary names);
            // waveSize failed, so it is not also reported as set beside waveGrowthFactor.
            'rollout.colour: unknown field; allowed: canary, waveSize, waveGrowthFactor, parallelDevices, healthTimeoutSeconds, soakSeconds, maxFailed, abortMinDevices, unreachableIsFailure, onFailure (got "red")',
            "rollout.waveSize: must be at least 1 device (got 0)",
            "rollout.soakSeconds: must not be negative (got -1)",
            'rollout.maxFailed: must be a percentage such as "25%" (got "lots")',
            'rollout.onFailure: must be one of rollback, pause (got "retry")',
            'rollout.canary[0]: not a device of this stack; devices: dev-01, dev-02, dev-03, dev-04 (got "dev-09")',
            'rollout.canary[2]: named twice (got "dev-01")',
        ]);
        expect(problems({ canary: ["dev-09", "dev-01", "dev-01"], waveSize: 2, waveGrowthFactor: 2, maxFailed: "150%" })).toEqual([
            "rollout.waveGrowthFactor: set either waveSize (fixed waves) or waveGrowthFactor (growing waves), not both (got 2)",
            'rollout.canary[0]: not a device of this stack; devices: dev-01, dev-02, dev-03, dev-04 (got "dev-09")',
            'rollout.canary[2]: named twice (got "dev-01")',
            'rollout.maxFailed: must be a percentage from 0% to 100% (got "150%")',
        ]);
        expect(problems({ canary: 5 })).toEqual(["rollout.canary: must be at most the number of devices in the stack (4) (got 5)"]);
    });
});

describe("planWaves", () => {
    it("puts one canary first, then waves doubling from it", () => {
        expect(planWaves(devices(10), strategy()).map((w) => [w.canary, w.devices.length])).toEqual([
            [true, 1],
            [false, 2],
            [false, 4],
            [false, 3],
        ]);
    });

    it("uses named canaries wherever they are in the stack, and fixed waves", () => {
        const waves = planWaves(devices(5), strategy({ canary: ["dev-04"], waveSize: 3 }));
        expect(waves.map((w) => w.devices)).toEqual([["dev-04"], ["dev-01", "dev-02", "dev-03"], ["dev-05"]]);
    });

    it("has no canary wave when canary is 0, and grows by fractional factors rounding up", () => {
        const waves = planWaves(devices(8), strategy({ canary: 0, waveGrowthFactor: 1.5 }));
        expect(waves.map((w) => w.devices.length)).toEqual([2, 3, 3]);
        expect(waves.every((w) => !w.canary)).toBe(true);
    });

    it("keeps every device in exactly one wave, in stack order", () => {
        for (const n of [1, 2, 3, 7, 50]) {
            const all = planWaves(devices(n), strategy()).flatMap((w) => w.devices);
            expect(all).toEqual(devices(n));
        }
    });
});

describe("engine parallelism", () => {
    it("gives every device of a batch room for all of its containers to wait for health at once", () => {
        expect(engineParallelism(1)).toBe(16);
        expect(engineParallelism(10)).toBe(160);
        expect(engineParallelism(0)).toBe(16);
    });
});

describe("batches and thresholds", () => {
    it("splits a wave into batches of parallelDevices", () => {
        expect(batches(["a", "b", "c", "d", "e"], 2)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    });

    it("aborts past the allowed count or percentage, once enough devices were attempted", () => {
        expect(allowedFailures({ percent: 25 }, 10)).toBe(2);
        expect(crossesAbortThreshold(1, 1, 10, strategy())).toBe(true);
        expect(crossesAbortThreshold(2, 5, 10, strategy({ maxFailed: { percent: 25 } }))).toBe(false);
        expect(crossesAbortThreshold(3, 5, 10, strategy({ maxFailed: { percent: 25 } }))).toBe(true);
        expect(crossesAbortThreshold(2, 3, 10, strategy({ maxFailed: { devices: 1 }, abortMinDevices: 4 }))).toBe(false);
        expect(crossesAbortThreshold(2, 4, 10, strategy({ maxFailed: { devices: 1 }, abortMinDevices: 4 }))).toBe(true);
        // A stack smaller than abortMinDevices is judged once all of it was attempted.
        expect(crossesAbortThreshold(2, 3, 3, strategy({ maxFailed: { devices: 1 }, abortMinDevices: 4 }))).toBe(true);
    });

    it("derives the health timeout from the slowest healthcheck", () => {
        expect(derivedHealthTimeoutSeconds([])).toBe(60);
        expect(
            derivedHealthTimeoutSeconds([
                { intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 60 },
                { intervalSeconds: 120, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 0 },
            ]),
        ).toBe(280);
    });
});
