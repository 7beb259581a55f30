/**
 * program/runtime.ts: what the program turns off before declaring resources,
 * and the settings that keep each one on.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SDK_DEBUG_ENV, trimRuntime } from "../../program/runtime";

describe("trimRuntime", () => {
    let depth: number;
    let debug: typeof pulumi.log.debug;
    beforeEach(() => {
        depth = Error.stackTraceLimit;
        debug = pulumi.log.debug;
        Error.stackTraceLimit = 10;
    });
    afterEach(() => {
        Error.stackTraceLimit = depth;
        Reflect.set(pulumi.log, "debug", debug);
    });

    it("turns stack capture off and drops the SDK's debug messages by default", async () => {
        expect(trimRuntime({}, [])).toEqual({ stackTraceLimit: 0, sdkDebugDropped: true });
        expect(Error.stackTraceLimit).toBe(0);
        expect(new Error("the message").stack).toBe("Error: the message");
        expect(pulumi.log.debug).not.toBe(debug);
        await expect(pulumi.log.debug("Registering resource: t=x")).resolves.toBeUndefined();
    });

    it("replaces debug on the module object the SDK's runtime logs through", () => {
        trimRuntime({}, []);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const runtimeLog = require("@pulumi/pulumi/log") as typeof pulumi.log;
        expect(runtimeLog).toBe(pulumi.log);
        expect(runtimeLog.debug).toBe(pulumi.log.debug);
    });

    it("keeps stack traces when NODE_OPTIONS, Node's arguments or PULUMI_DEBUG_PROMISE_LEAKS ask for them", () => {
        expect(trimRuntime({ NODE_OPTIONS: "--stack-trace-limit=20" }, []).stackTraceLimit).toBe(10);
        expect(trimRuntime({}, ["--stack-trace-limit=30"]).stackTraceLimit).toBe(10);
        expect(trimRuntime({ PULUMI_DEBUG_PROMISE_LEAKS: "true" }, []).stackTraceLimit).toBe(10);
    });

    it(`keeps the SDK's debug messages with ${SDK_DEBUG_ENV}=1`, () => {
        expect(trimRuntime({ [SDK_DEBUG_ENV]: "1" }, []).sdkDebugDropped).toBe(false);
        expect(pulumi.log.debug).toBe(debug);
    });
});
