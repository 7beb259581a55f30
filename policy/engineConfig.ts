/**
 * The stack's configuration as the engine hands it to the pack. Before any
 * resource is analyzed, the engine calls the analyzer's ConfigureStack with
 * the stack's name and its configuration (the stack file, or --config-file).
 * @pulumi/policy answers that call but passes only the stack's tags on to the
 * policies; this keeps the rest, by wrapping the handler the library
 * registers with its gRPC server, then hands it to `onStack`. An error there
 * fails the call, and with it the preview or update, naming the problem.
 */
import type * as grpc from "@grpc/grpc-js";
import type { AnalyzerStackConfigureRequest as StackConfigureRequest } from "@pulumi/pulumi/proto/analyzer_pb";
import { createRequire } from "node:module";

type Handler = (call: { request: StackConfigureRequest }, callback: (err: unknown, res?: unknown) => void) => void;

/** The settings the pack needs are plain; secrets (the deploy key, the token) are dropped on arrival. */
export function plainConfig(req: StackConfigureRequest): Map<string, string> {
    const secret = new Set(req.getConfigSecretKeysList());
    const out = new Map<string, string>();
    req.getConfigMap().forEach((value, key) => {
        if (!secret.has(key)) out.set(key, value);
    });
    return out;
}

export function onStackConfigured(onStack: (stack: string, config: Map<string, string>) => void): void {
    // The gRPC module @pulumi/policy itself loads, wherever npm put it.
    const lib = createRequire(require.resolve("@pulumi/policy"))("@grpc/grpc-js") as typeof grpc;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the server as `this`
    const addService = lib.Server.prototype.addService;
    lib.Server.prototype.addService = function (service, implementation) {
        const original = implementation.configureStack as Handler | undefined;
        if (original) {
            const wrapped: Handler = (call, callback) => {
                try {
                    onStack(call.request.getStack(), plainConfig(call.request));
                } catch (e) {
                    callback({ code: lib.status.INVALID_ARGUMENT, details: String((e as Error).message ?? e) });
                    return;
                }
                original(call, callback);
            };
            implementation = { ...implementation, configureStack: wrapped as unknown as grpc.UntypedHandleCall };
        }
        addService.call(this, service, implementation);
    };
}
