// Loaded first by the project's Node.js entry points: the Pulumi program
// (index.ts imports it before anything else), the policy pack
// (policy/analyzer) and `edge-fleet` (bin/edge-fleet.cjs). It turns on Node's
// on-disk cache of compiled code, so @pulumi/docker, zod and the project's
// own modules are compiled once rather than on every run: a no-op
// `pulumi up` took about 0.3 s less (README, "Tests and figures"). The cache is
// Node's own (NODE_COMPILE_CACHE, else a directory under the system's
// temporary one), keyed by each file's contents; where it cannot be written,
// Node compiles as usual.
"use strict";
require("node:module").enableCompileCache?.();
