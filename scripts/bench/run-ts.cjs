// Runs one of the project's TypeScript files with plain Node.js, for scripts
// that need the program's own modules (config parser, planner) outside Pulumi
// and vitest. Node's built-in type stripping cannot: the sources are CommonJS
// with extensionless imports. So each .ts file is transpiled on require with
// the project's `typescript` package (no type check; `npm run typecheck` does that).
//
// usage: node run-ts.cjs FILE.ts [ARG...]   (the script sees its args from process.argv[2])
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");

require.extensions[".ts"] = (module, filename) => {
    const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
    });
    module._compile(outputText, filename);
};

const [, , file, ...args] = process.argv;
if (!file) {
    console.error("usage: node run-ts.cjs FILE.ts [ARG...]");
    process.exit(2);
}
process.argv = [process.argv[0], path.resolve(file), ...args];
require(path.resolve(file));
