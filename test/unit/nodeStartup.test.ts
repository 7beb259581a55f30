/**
 * bin/node-startup.cjs: the SDK's Automation API and closure code-path search
 * are not loaded with @pulumi/pulumi, and still work when used. Each case runs
 * in a Node.js process of its own: the point is what a fresh process loads.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const startup = path.join(root, "bin", "node-startup.cjs");

/** Runs `body` (CommonJS) in a new Node.js process in the project root and returns what it prints as JSON. */
function inNewProcess(body: string, preload = true): Record<string, unknown> {
    const script = `${preload ? `require(${JSON.stringify(startup)});` : ""}
const loaded = (part) => Object.keys(require.cache).some((f) => f.includes(part));
${body}`;
    const out = execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8", env: { ...process.env, NODE_COMPILE_CACHE: "" } });
    return JSON.parse(out) as Record<string, unknown>;
}

const AUTOMATION = `${path.sep}@pulumi${path.sep}pulumi${path.sep}automation${path.sep}`;
const ARBORIST = `${path.sep}@npmcli${path.sep}arborist${path.sep}`;
const CODE_PATHS = `closure${path.sep}codePaths.js`;

describe("node-startup", () => {
    it("without it, @pulumi/pulumi loads the Automation API and arborist (what it saves)", () => {
        const r = inNewProcess(
            `require("@pulumi/pulumi");
console.log(JSON.stringify({ automation: loaded(${JSON.stringify(AUTOMATION)}), arborist: loaded(${JSON.stringify(ARBORIST)}) }));`,
            false,
        );
        expect(r).toEqual({ automation: true, arborist: true });
    });

    it("leaves the Automation API, the code-path search and arborist unloaded until used", () => {
        const r = inNewProcess(
            `const pulumi = require("@pulumi/pulumi");
new pulumi.Config; pulumi.output(1); pulumi.runtime.isDryRun();
console.log(JSON.stringify({
  automation: loaded(${JSON.stringify(AUTOMATION)}),
  codePaths: loaded(${JSON.stringify(CODE_PATHS)}),
  arborist: loaded(${JSON.stringify(ARBORIST)}),
  computeCodePaths: typeof pulumi.runtime.computeCodePaths,
}));`,
        );
        expect(r).toEqual({ automation: false, codePaths: false, arborist: false, computeCodePaths: "function" });
    });

    it("loads the Automation API on first use, with everything it exports", () => {
        const r = inNewProcess(
            `const pulumi = require("@pulumi/pulumi");
const before = loaded(${JSON.stringify(AUTOMATION)});
const ws = typeof pulumi.automation.LocalWorkspace.create;
const real = require("@pulumi/pulumi/automation");
console.log(JSON.stringify({
  before, ws, after: loaded(${JSON.stringify(AUTOMATION)}),
  sameKeys: JSON.stringify(Object.keys(pulumi.automation).sort()) === JSON.stringify(Object.keys(real).sort()),
  hasStack: "Stack" in pulumi.automation,
  sameClass: pulumi.automation.Stack === real.Stack,
}));`,
        );
        expect(r).toEqual({ before: false, ws: "function", after: true, sameKeys: true, hasStack: true, sameClass: true });
    });

    it("loads the code-path search at the first call of computeCodePaths, which then works", () => {
        const r = inNewProcess(
            `const pulumi = require("@pulumi/pulumi");
const before = loaded(${JSON.stringify(CODE_PATHS)});
pulumi.runtime.computeCodePaths({ extraIncludePaths: [], extraIncludePackages: [], extraExcludePackages: [] }).then(
  (paths) => console.log(JSON.stringify({ before, after: loaded(${JSON.stringify(CODE_PATHS)}), isMap: paths instanceof Map })),
  (err) => console.log(JSON.stringify({ before, error: String(err) })),
);`,
        );
        expect(r).toEqual({ before: false, after: true, isMap: true });
    });
});
