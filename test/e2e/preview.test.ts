/**
 * `edge-fleet preview` over real previews of a stack on simulated devices:
 * deployed once (healthchecks shortened through the stack settings, as the
 * rollout tests do), then previewed with one change at a time. Previews
 * change nothing, so every case starts from the same deployed state.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult, SimDevice, TestStack, authorizeDeployKey, edgeFleet, localConfig, registryDigest, simDevice } from "./support";

const STACK = "e2e-preview";
const CORE = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "self_monitor"];
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };
let d19: SimDevice;
let d20: SimDevice;
let stack: TestStack;
let markdownDir: string;

/** The deployed configuration: one device, release 1.0.0, shortened healthchecks. */
function base(devices: SimDevice[] = [d19]): Record<string, any> {
    const values = localConfig(devices, "e2e-preview");
    values.services = Object.fromEntries(CORE.map((s) => [s, { healthcheck: { ...FAST } }]));
    return values;
}

interface Previewed {
    readonly run: RunResult;
    readonly lines: string[];
    readonly markdown: string;
}

function preview(values: Record<string, any>): Previewed {
    stack.setConfig(values);
    const md = path.join(markdownDir, `${Date.now()}.md`);
    const run = edgeFleet("preview", "--stack", STACK, "--config-file", stack.configFile, "--markdown", md);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    return { run, lines: run.stdout.split("\n"), markdown: fs.readFileSync(md, "utf8") };
}

beforeAll(() => {
    d19 = simDevice("sim-edge-19");
    d20 = simDevice("sim-edge-20");
    // One deploy key for the stack: the first device's.
    authorizeDeployKey(d20, d19);
    markdownDir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-preview-"));
    stack = TestStack.create(STACK, base(), d19);
    const up = stack.up();
    if (up.code !== 0) throw new Error(`initial deploy failed:\n${up.stdout}\n${up.stderr}`);
}, 15 * 60_000);

afterAll(() => {
    if (stack) {
        stack.setConfig(base());
        stack.destroy();
    }
    if (markdownDir) fs.rmSync(markdownDir, { recursive: true, force: true });
});

describe("edge-fleet preview of simulated devices", () => {
    it("the deployed configuration: no changes, and nothing secret printed", () => {
        const p = preview(base());
        expect(p.lines.slice(0, 5)).toEqual([
            "stack e2e-preview: 1 device, containers: 0 created, 0 replaced, 0 updated, 0 deleted",
            "policy violations: none",
            "",
            "sim-edge-19: no changes",
            "",
        ]);
        const token = fs.readFileSync(d19.registry.passwordFile, "utf8").trim();
        const key = fs.readFileSync(d19.privateKeyPath, "utf8").split("\n")[1]!;
        for (const text of [p.run.stdout, p.run.stderr, p.markdown]) {
            expect(text).not.toContain(token);
            expect(text).not.toContain(key);
        }
    });

    it("a release change of tv_api: replaced because of its image, tag and digest", async () => {
        const values = base();
        values.release = { tag: "1.0.0", services: { tv_api: { tag: "1.1.0" } } };
        const p = preview(values);
        const running = (await registryDigest(d19, "tv_api", "1.0.0")).slice(0, 19);
        expect(p.lines).toEqual([
            "stack e2e-preview: 1 device (1 changed), containers: 0 created, 1 replaced, 0 updated, 0 deleted",
            "policy violations: none",
            "",
            "sim-edge-19: changes",
            "  ± tv_api: replace (downtime: removed, then created), because of image",
            "      image tag 1.0.0 → 1.1.0",
            `      image digest ${running} → resolved when pulled`,
            "",
        ]);
        expect(p.markdown).toContain("\n- **tv_api**: replace (downtime: removed, then created), because of image\n  - image tag 1.0.0 → 1.1.0\n");
    });

    it("a memory change: memory 256 → 320 MiB", () => {
        const values = base();
        values.services.logline_writer.memoryMiB = 320;
        const p = preview(values);
        expect(p.lines.slice(3)).toEqual([
            "sim-edge-19: changes",
            "  ± logline_writer: replace (downtime: removed, then created), because of memory/CPU limits",
            "      memory 256 → 320 MiB",
            "",
        ]);
    });

    it("a healthcheck change: the interval and the health wait it lengthens", () => {
        const values = base();
        values.services.tv_api.healthcheck.intervalSeconds = 3;
        const p = preview(values);
        expect(p.lines.slice(3)).toEqual([
            "sim-edge-19: changes",
            "  ± tv_api: replace (downtime: removed, then created), because of healthcheck",
            "      healthcheck interval 2s → 3s",
            "      health wait 41s → 43s",
            "",
        ]);
    });

    it("a new device: every container created, with its networks", () => {
        const p = preview(base([d19, d20]));
        expect(p.lines[0]).toBe("stack e2e-preview: 2 devices (1 new), containers: 8 created, 0 replaced, 0 updated, 0 deleted");
        const device20 = p.lines.slice(p.lines.indexOf("sim-edge-20: new device"));
        expect(device20.filter((l) => l.startsWith("  "))).toEqual([
            "  + agent_dvr: create",
            "      image agent_dvr:1.0.0, memory 512 MiB, CPUs 1",
            "  + logline_writer: create",
            "      image logline_writer:1.0.0, memory 256 MiB, CPUs 0.5",
            "  + playlist_manager: create",
            "      image playlist_manager:1.0.0, memory 256 MiB, CPUs 0.5",
            "  + scene_scanner: create",
            "      image scene_scanner:1.0.0, memory 768 MiB, CPUs 1",
            "  + scene_summarizer: create",
            "      image scene_summarizer:1.0.0, memory 2048 MiB, CPUs 1.5",
            "  + self_monitor: create",
            "      image self_monitor:1.0.0, memory 64 MiB, CPUs 0.1",
            "  + tv_api: create",
            "      image tv_api:1.0.0, memory 512 MiB, CPUs 1",
            "  + watchtower: create",
            "      image watchtower:1.0.0, memory 128 MiB, CPUs 0.25",
            "  network vv_backend: create",
            "  network vv_control: create",
        ]);
        expect(p.lines).toContain("sim-edge-19: no changes");
        expect(p.markdown).toContain("| sim-edge-20 | new device | 8       | 0        | 0       | 0       |");
    });

    it("a disabled service: its container deleted", () => {
        const values = base();
        values.services.self_monitor.enabled = false;
        const p = preview(values);
        expect(p.lines).toEqual([
            "stack e2e-preview: 1 device (1 changed), containers: 0 created, 0 replaced, 0 updated, 1 deleted",
            "policy violations: none",
            "",
            "sim-edge-19: changes",
            "  - self_monitor: delete",
            "",
        ]);
    });
});
