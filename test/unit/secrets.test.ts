import * as fs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { CONTAINER, RecordedResource, TEST_PRIVATE_KEY, TEST_REGISTRY_TOKEN, byType, isSecret, plainParts, runProgram, stackConfig } from "./harness";


beforeEach(() => {
    vi.resetModules();
});

describe("secrets", () => {
    it("reach the provider and watchtower only as secret values", async () => {
        const { resources } = await runProgram(stackConfig("Pulumi.edge-jetson.yaml"));
        for (const p of byType(resources, "pulumi:providers:docker")) expect(isSecret(p.inputs.registryAuth)).toBe(true);
        const watchtowers = byType(resources, CONTAINER).filter((c) => c.inputs.name === "watchtower");
        expect(watchtowers).toHaveLength(2);
        for (const w of watchtowers) expect(isSecret(w.inputs.uploads)).toBe(true);
        for (const r of resources) {
            const text = plainParts(r.inputs);
            expect(text, r.name).not.toContain(TEST_REGISTRY_TOKEN);
            expect(text, r.name).not.toContain(Buffer.from(`vv-deploy:${TEST_REGISTRY_TOKEN}`).toString("base64"));
            expect(text, r.name).not.toContain("PRIVATE KEY");
        }
    });

    it("writes the deploy key for ssh with mode 0600, outside the work tree", async () => {
        await runProgram(stackConfig("Pulumi.edge-x86.yaml"), { stack: "edge-x86" });
        const dir = path.join(process.env.EDGE_FLEET_SSH_DIR!, "edge-x86", "x86-depot-01");
        expect(fs.statSync(path.join(dir, "id_deploy")).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(path.join(dir, "id_deploy"), "utf8")).toBe(TEST_PRIVATE_KEY);
        expect(fs.readFileSync(path.join(dir, "known_hosts"), "utf8")).toMatch(/^\[198\.51\.100\.31\]:2222 ssh-ed25519 AAAA/);
    });

    it("refuses a plain-text token before registering any resource", async () => {
        const run = runProgram(stackConfig("Pulumi.edge-x86.yaml"), { secrets: false });
        await expect(run).rejects.toThrow(/registryToken: is stored in plain text/);
    });
});

describe("bad configuration", () => {
    it("registers nothing at all", async () => {
        const values = stackConfig("Pulumi.edge-jetson.yaml");
        (values.services as Record<string, unknown>).scene_summarizer = { memory: "2048" };
        const recorded: RecordedResource[] = [];
        await expect(runProgram(values, { record: recorded })).rejects.toThrow(/services\.scene_summarizer\.memory: must be a size with a unit/);
        await new Promise((r) => setTimeout(r, 50));
        expect(recorded).toEqual([]);
    });
});
