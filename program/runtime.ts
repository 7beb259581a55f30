/**
 * What the Pulumi program's Node.js process does per resource that nobody
 * reads, turned off before the first resource is declared. Each of these was
 * found in a CPU profile of the program during a 25-device preview (about 750
 * resources) and grows with the fleet. With the pids limit's transformation
 * (components/serviceContainer.ts), they took a 50-device preview from 39 s
 * to 30 s on 2 cores (README, "Fleets of hundreds of devices"); they apply
 * to every `pulumi up` as well.
 */
import * as pulumi from "@pulumi/pulumi";

/** Set to 1 to keep the SDK's own debug messages (for `pulumi up --debug` on the runtime itself). */
export const SDK_DEBUG_ENV = "EDGE_FLEET_SDK_DEBUG";

/** Whether NODE_OPTIONS or Node's own arguments already choose a stack trace depth. */
function stackDepthChosen(env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
    return [env.NODE_OPTIONS ?? "", ...execArgv].some((a) => a.includes("--stack-trace-limit"));
}

export interface RuntimeTrim {
    readonly stackTraceLimit: number;
    readonly sdkDebugDropped: boolean;
}

/**
 * - The SDK wraps each of its internal promises with `new Error().stack`,
 *   kept only to print leaked promises when PULUMI_DEBUG_PROMISE_LEAKS is set;
 *   capturing and formatting those frames was a quarter of the program's CPU.
 *   Error.stackTraceLimit 0 makes that free. Resource source positions are
 *   unaffected (the SDK lifts the limit while it records them), and errors
 *   keep their message; `NODE_OPTIONS=--stack-trace-limit=20` (or
 *   PULUMI_DEBUG_PROMISE_LEAKS) brings stack traces back.
 * - ts-node's source-map hook would map each of those frames back to
 *   TypeScript (a third of the program's CPU when it was on); V8's own
 *   formatting is enough.
 * - The SDK sends the engine three debug messages per resource ("Registering
 *   resource", "RegisterResource RPC prepared/finished"), one gRPC call each,
 *   in series; the engine turns each into an event that every display and
 *   the Automation API then parse. They are dropped unless EDGE_FLEET_SDK_DEBUG=1.
 *   The SDK's runtime calls `log.debug` through the same module object as
 *   `pulumi.log`, so replacing it there covers the runtime's calls.
 */
export function trimRuntime(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): RuntimeTrim {
    Reflect.deleteProperty(Error, "prepareStackTrace");
    if (!stackDepthChosen(env, execArgv) && !env.PULUMI_DEBUG_PROMISE_LEAKS) Error.stackTraceLimit = 0;
    const sdkDebugDropped = env[SDK_DEBUG_ENV] !== "1";
    // An assignment to an imported namespace's member does not type-check; the object is writable.
    if (sdkDebugDropped) Reflect.set(pulumi.log, "debug", () => Promise.resolve());
    return { stackTraceLimit: Error.stackTraceLimit, sdkDebugDropped };
}
