/**
 * The shipped stack files pass the policy pack: the program runs under mocks
 * with each file's settings (their devices are not reachable from here), and
 * every rule judges what it registers, at the level it has in that stack.
 * The engine's own run of the pack is in test/e2e/policy.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { RULE_NAMES, levelOf, rules } from "../../policy/rules";
import { fixedContext, settingsFromConfig } from "../../policy/settings";
import { ROOT, runProgram, stackConfig, toPulumiConfig } from "./harness";
import { stackViolations, violations } from "./policyHarness";

beforeEach(() => {
    // Each run imports the program afresh, so it registers its resources again.
    vi.resetModules();
});

async function judge(file: string): Promise<Record<string, string[]>> {
    const stack = /^Pulumi\.(.+)\.yaml$/.exec(file)![1]!;
    const values = stackConfig(file);
    const { resources } = await runProgram(values, { stack });
    const raw = (parseYaml(fs.readFileSync(path.join(ROOT, file), "utf8")) as { config: Record<string, unknown> }).config;
    const policyKeys = Object.entries(raw).filter(([k]) => k.startsWith("edge-fleet-policy:"));
    const config = new Map([...Object.entries(toPulumiConfig(values)), ...policyKeys.map(([k, v]) => [k, JSON.stringify(v)] as [string, string])]);
    const settings = settingsFromConfig(stack, config, RULE_NAMES);
    const found: Record<string, string[]> = {};
    const res = resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
    expect(res.filter((r) => r.type === "docker:index/container:Container").length).toBeGreaterThanOrEqual(8);
    for (const rule of rules(fixedContext(settings))) {
        const level = levelOf(rule.name, settings);
        if (level === "disabled") continue;
        const messages = "validateStack" in rule ? await stackViolations(rule, res) : (await Promise.all(res.map((r) => violations(rule, r)))).flat();
        if (messages.length > 0) found[`${level} ${rule.name}`] = messages;
    }
    return found;
}

describe("the shipped stack files under the policy pack", () => {
    it("Pulumi.local.yaml breaks no rule", async () => {
        expect(await judge("Pulumi.local.yaml")).toEqual({});
    });
    it.each(["Pulumi.edge-jetson.yaml", "Pulumi.edge-x86.yaml"])("%s breaks no mandatory rule; its tags are only advised against", async (file) => {
        const found = await judge(file);
        expect(Object.keys(found)).toEqual(["advisory images-pinned-by-digest"]);
        expect(found["advisory images-pinned-by-digest"]!.every((m) => m.endsWith("a tag that can move; pin it by digest"))).toBe(true);
    });
});
