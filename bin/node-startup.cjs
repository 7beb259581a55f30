// What the project's Node.js entry points run before anything else: the
// Pulumi program (index.ts imports it first), the policy pack
// (policy/analyzer) and `edge-fleet` (bin/edge-fleet.cjs).
//
// 1. Node's on-disk cache of compiled code, so @pulumi/docker, zod and the
//    project's own modules are compiled once rather than on every run: a no-op
//    `pulumi up` took about 0.3 s less (README, "Tests and figures"). The cache
//    is Node's own (NODE_COMPILE_CACHE, else a directory under the system's
//    temporary one), keyed by each file's contents; where it cannot be
//    written, Node compiles as usual.
// 2. @pulumi/pulumi loads, with its index, two modules that neither the
//    program nor the policy pack uses: the Automation API (`pulumi.automation`,
//    used by `edge-fleet` only) and the code-path search of closure
//    serialization, which loads npm's arborist, pacote and sigstore. Together
//    about 0.25 s of CPU at every start of the program and of the policy pack
//    on this project's 2-core machine. Both are handed to the SDK as stand-ins
//    that load the module on first use, so whatever does use them sees no
//    difference.
"use strict";
const Module = require("node:module");
const path = require("node:path");


/**
 * The SDK's requests to defer: the requiring file (relative to the SDK's
 * directory), the request as it is written there, and the exports the file
 * reads as it loads. Those must be functions; each is stood in for by a
 * function that loads the module at its first call.
 */
const DEFERRED = [
    { from: "index.js", request: "./automation", readAtLoad: [] },
    { from: path.join("runtime", "index.js"), request: "./closure/codePaths", readAtLoad: ["computeCodePaths"] },
];

function deferSdkModules() {
    let sdkDir;
    try {
        sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    } catch {
        return; // not installed here: nothing to defer
    }
    const deferred = new Map(DEFERRED.map((d) => [`${path.join(sdkDir, d.from)}\0${d.request}`, d.readAtLoad]));
    // Module._load is how a CommonJS require reaches the loader. It is not a
    // documented API, but the one module-loading hooks (require-in-the-middle,
    // used by the SDK's own tracing) rely on; where it is missing, the SDK
    // simply loads everything as before.
    const load = Module._load;
    if (typeof load !== "function") return;
    Module._load = function (request, parent, isMain) {
        const readAtLoad = parent && deferred.get(`${parent.filename}\0${request}`);
        if (readAtLoad) return onFirstUse(() => load.call(this, request, parent, isMain), readAtLoad);
        return load.apply(this, arguments);
    };
}

/**
 * A stand-in for a CommonJS module's exports that loads the module on the
 * first look inside, or at the first call of one of the `readAtLoad` functions.
 */
function onFirstUse(loadModule, readAtLoad) {
    let exports;
    const real = () => (exports ??= loadModule());
    const callLater = new Map(readAtLoad.map((name) => [name, (...args) => real()[name](...args)]));
    return new Proxy(
        {},
        {
            get: (_, key) => {
                // __importStar asks this first and must not load the module for
                // it: the SDK's modules are all compiled ES modules.
                if (key === "__esModule") return true;
                return callLater.get(key) ?? Reflect.get(real(), key);
            },
            has: (_, key) => Reflect.has(real(), key),
            ownKeys: () => Reflect.ownKeys(real()),
            getOwnPropertyDescriptor: (_, key) => {
                const d = Reflect.getOwnPropertyDescriptor(real(), key);
                // A proxy may not report a property its empty target lacks as non-configurable.
                return d && { ...d, configurable: true };
            },
        },
    );
}

Module.enableCompileCache?.();
deferSdkModules();
