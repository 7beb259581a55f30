/**
 * The preview renderer over the events of real previews of a one-device
 * stack (test/unit/fixtures/preview, captured with `edge-fleet preview
 * --events` and scripts/preview-fixture.ts): the exact lines a reviewer reads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { buildReport, mergeReports } from "../../preview/model";
import { renderMarkdown, renderText } from "../../preview/render";

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "preview", `${name}.json`), "utf8")) as EngineEvent[];
const text = (events: EngineEvent[], error?: string) => renderText(buildReport("e2e-preview", events, error)).split("\n");

describe("preview text per device and container", () => {
    it("a release change replaces tv_api because of its image, with tag and digest", () => {
        expect(text(fixture("release"))).toEqual([
            "stack e2e-preview: 1 device (1 changed), containers: 0 created, 1 replaced, 0 updated, 0 deleted",
            "policy violations: none",
            "",
            "sim-edge-19: changes",
            "  ± tv_api: replace (downtime: removed, then created), because of image",
            "      image tag 1.0.0 → 1.1.0",
            "      image digest sha256:e2c8a12346ad → resolved when pulled",
            "",
        ]);
    });

    it("a memory change shows in MiB, once for memory and swap, replaced because of the limits label", () => {
        const lines = text(fixture("memory"));
        expect(lines).toContain("  ± logline_writer: replace (downtime: removed, then created), because of memory/CPU limits");
        expect(lines).toContain("      memory 256 → 320 MiB");
        expect(lines.filter((l) => l.includes("swap") || l.includes("label"))).toEqual([]);
    });

    it("a healthcheck change names the timing that changed and the health wait derived from it", () => {
        const lines = text(fixture("healthcheck"));
        expect(lines.slice(3)).toEqual([
            "sim-edge-19: changes",
            "  ± tv_api: replace (downtime: removed, then created), because of healthcheck",
            "      healthcheck interval 2s → 3s",
            "      health wait 41s → 43s",
            "",
        ]);
    });

    it("a disabled service is a deleted container", () => {
        expect(text(fixture("disabled"))).toEqual([
            "stack e2e-preview: 1 device (1 changed), containers: 0 created, 0 replaced, 0 updated, 1 deleted",
            "policy violations: none",
            "",
            "sim-edge-19: changes",
            "  - self_monitor: delete",
            "",
        ]);
    });

    it("a new device creates every container and its networks, sorted; the other device has no changes", () => {
        const lines = text(fixture("new-device"));
        expect(lines[0]).toBe("stack e2e-preview: 2 devices (1 new), containers: 8 created, 0 replaced, 0 updated, 0 deleted");
        expect(lines.slice(3, 6)).toEqual(["sim-edge-19: no changes", "", "sim-edge-20: new device"]);
        expect(lines.filter((l) => l.startsWith("  + ")).map((l) => l.split(":")[0])).toEqual(
            ["agent_dvr", "logline_writer", "playlist_manager", "scene_scanner", "scene_summarizer", "self_monitor", "tv_api", "watchtower"].map((s) => `  + ${s}`),
        );
        expect(lines).toContain("      image tv_api:1.0.0, memory 512 MiB, CPUs 1");
        expect(lines.slice(-3)).toEqual(["  network vv_backend: create", "  network vv_control: create", ""]);
    });

    it("is the same whatever order the events came in", () => {
        const events = fixture("new-device");
        expect(text([...events].reverse())).toEqual(text(events));
    });
});

/**
 * The memory fixture with the changed container's inputs edited, to exercise
 * the other fields; the diff then names every input that differs, as the
 * engine's would.
 */
function edited(edit: (o: Record<string, any>, n: Record<string, any>) => void): EngineEvent[] {
    const events = fixture("memory");
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        if (!m?.old || !m.new || m.type !== "docker:index/container:Container") continue;
        edit(m.old.inputs, m.new.inputs);
        for (const k of new Set([...Object.keys(m.old.inputs), ...Object.keys(m.new.inputs)])) {
            if (JSON.stringify(m.old.inputs[k]) !== JSON.stringify(m.new.inputs[k])) m.detailedDiff = { ...m.detailedDiff, [k]: { diffKind: "update" as never, inputDiff: true } };
        }
    }
    return events;
}

describe("preview field lines", () => {
    it("environment: keys added, removed and changed; values of secret settings never shown", () => {
        const lines = text(edited((o, n) => {
            o.envs = ["LOG_LEVEL=INFO", "OLD=1", "API_TOKEN=abc123", "DB_URL=[secret]"];
            n.envs = ["LOG_LEVEL=DEBUG", "NEW=2", "API_TOKEN=def456", "DB_URL=[secret]", "REGISTRY_PASSWORD=hunter2"];
        }));
        expect(lines.filter((l) => l.includes("environment"))).toEqual([
            "      environment API_TOKEN changed (value hidden)",
            "      environment LOG_LEVEL INFO → DEBUG",
            "      environment + NEW=2",
            "      environment - OLD",
            "      environment + REGISTRY_PASSWORD=(value hidden)",
        ]);
        expect(lines.join("\n")).not.toMatch(/abc123|def456|hunter2/);
    });

    it("restart policy, CPUs, mounts, networks, ports and the full healthcheck", () => {
        const lines = text(edited((o, n) => {
            Object.assign(n, { restart: "always", maxRetryCount: 0, cpus: "1" });
            n.volumes = [o.volumes.find((v: { containerPath: string }) => v.containerPath === "/app/loglines"), { containerPath: "/app/extra", volumeName: "extra_data" }];
            n.networksAdvanced = [...o.networksAdvanced, { name: "vv_monitoring", aliases: [] }];
            n.ports = [{ internal: 8000, external: 8000, ip: "0.0.0.0", protocol: "tcp" }];
            n.healthcheck = { tests: ["CMD", "true"], interval: "5s", timeout: "1s", retries: 5, startPeriod: "10s" };
        }));
        expect(lines.slice(5)).toEqual([
            "      memory 256 → 320 MiB",
            "      CPUs 0.5 → 1",
            "      healthcheck test `CMD find /app/heartbeat -mmin -5` → `CMD true`",
            "      healthcheck interval 2s → 5s",
            "      healthcheck timeout 2s → 1s",
            "      healthcheck retries 3 → 5",
            "      healthcheck start period 5s → 10s",
            "      healthcheck start interval 0s → (none)",
            "      restart policy on-failure → always",
            "      restart retries 5 → 0",
            "      mount - /srv/vv-video/summaries → /app/summaries (ro)",
            "      mount + volume extra_data → /app/extra",
            "      network + vv_monitoring",
            "      port + 0.0.0.0:8000→8000/tcp",
            "",
        ]);
    });

    it("an in-place update is counted as updated and signed ~", () => {
        const CONTAINER = "docker:index/container:Container";
        // The memory change as a provider that can update in place would plan it: one update step.
        const events = edited(() => {}).filter((e) => {
            const m = e.resourcePreEvent?.metadata;
            return !(m?.type === CONTAINER && (m.op === "delete-replaced" || m.op === "create-replacement"));
        });
        for (const e of events) {
            const m = e.resourcePreEvent?.metadata;
            if (m?.type === CONTAINER && m.op === "replace") Object.assign(m, { op: "update", keys: [], detailedDiff: { memory: { diffKind: "update", inputDiff: true } } });
        }
        expect(text(events)).toEqual([
            "stack e2e-preview: 1 device (1 changed), containers: 0 created, 0 replaced, 1 updated, 0 deleted",
            "policy violations: none",
            "",
            "sim-edge-19: changes",
            "  ~ logline_writer: update in place",
            "      memory 256 → 320 MiB",
            "",
        ]);
    });

    it("an image pinned by digest shows the new digest", () => {
        const lines = text(fixture("release").map((e) => {
            const m = e.resourcePreEvent?.metadata;
            if (m?.new && m.type === "docker:index/container:Container" && m.op !== "same") m.new.inputs.image = `${m.new.inputs.image}@sha256:${"ab".repeat(32)}`;
            return e;
        }));
        expect(lines).toContain("      image digest sha256:e2c8a12346ad → sha256:abababababab");
    });
});

describe("preview policy findings and failures", () => {
    const policy = (level: "mandatory" | "warning", name: string, urn?: string): EngineEvent => ({
        sequence: 0,
        timestamp: 0,
        policyEvent: { ...(urn ? { resourceUrn: urn } : {}), message: `\u001b[31m${name} says no\u001b[0m`, color: "raw", policyName: name, policyPackName: "edge-fleet-policies", policyPackVersion: "0.1.0", policyPackVersionTag: "", enforcementLevel: level },
    });
    const tvApi = "urn:pulumi:e2e-preview::edge-fleet::edge-fleet:device:EdgeDevice$edge-fleet:device:ServiceContainer$docker:index/container:Container::sim-edge-19-tv_api";

    it("lists findings mandatory first with device and container, and a mandatory one fails the report", () => {
        const events = [...fixture("release"), policy("warning", "memory-headroom"), policy("mandatory", "no-privileged", tvApi)];
        const report = buildReport("e2e-preview", events, "error: preview failed");
        expect(report.failed).toBe(true);
        expect(renderText(report).split("\n").slice(1, 4)).toEqual([
            "policy violations: 2 (1 mandatory)",
            "  mandatory: edge-fleet-policies/no-privileged on sim-edge-19 tv_api: no-privileged says no",
            "  warning: edge-fleet-policies/memory-headroom: memory-headroom says no",
        ]);
        expect(renderMarkdown(report)).toContain("- **mandatory**: `edge-fleet-policies/no-privileged` on sim-edge-19 tv_api: no-privileged says no\n");
    });

    it("a warning alone does not fail it", () => {
        expect(buildReport("e2e-preview", [...fixture("release"), policy("warning", "memory-headroom")]).failed).toBe(false);
    });

    it("a failed preview carries the CLI's error line", () => {
        const lines = text(fixture("disabled"), "command failed\n  stderr: error: could not reach sim-edge-19\n");
        expect(lines[2]).toBe("error: could not reach sim-edge-19");
    });
});

describe("preview Markdown", () => {
    it("the comment: summary, device table, sorted sections, the same lines as the text", () => {
        expect(renderMarkdown(buildReport("e2e-preview", fixture("release")))).toBe(
            [
                "### Preview of stack `e2e-preview`",
                "",
                "**stack e2e-preview: 1 device (1 changed), containers: 0 created, 1 replaced, 0 updated, 0 deleted**",
                "",
                "✅ no mandatory policy violated",
                "",
                "| device      | status  | created | replaced | updated | deleted |",
                "| ----------- | ------- | ------- | -------- | ------- | ------- |",
                "| sim-edge-19 | changes | 0       | 1        | 0       | 0       |",
                "",
                "#### policy violations: none",
                "",
                "#### sim-edge-19: changes",
                "",
                "- **tv_api**: replace (downtime: removed, then created), because of image",
                "  - image tag 1.0.0 → 1.1.0",
                "  - image digest sha256:e2c8a12346ad → resolved when pulled",
                "",
            ].join("\n"),
        );
    });
});

describe("preview fixtures", () => {
    it("hold nothing of the machine they were captured on", () => {
        const dir = path.join(__dirname, "fixtures", "preview");
        for (const f of fs.readdirSync(dir)) {
            const text = fs.readFileSync(path.join(dir, f), "utf8");
            expect(text, f).not.toMatch(/10\.77\.|\/var\/lib\/edge-fleet-sim|\/root\/|ssh-ed25519 AAAA[A-Za-z0-9+/]|BEGIN OPENSSH/);
        }
    });
});

describe("one report over a fleet's shard stacks", () => {
    it("lists every shard's devices in name order, adds the counts and names the stack of each error", () => {
        const a = buildReport("fleet.shard-1-of-2", fixture("release"));
        const b = { ...buildReport("fleet.shard-2-of-2", fixture("memory")), errors: ["sim-edge-19: could not connect"], failed: true };
        const renamed = { ...b, devices: b.devices.map((d) => ({ ...d, device: "sim-edge-09" })) };
        const merged = mergeReports("fleet", [a, renamed]);
        expect(merged.stack).toBe("fleet");
        expect(merged.devices.map((d) => d.device)).toEqual(["sim-edge-09", "sim-edge-19"]);
        expect(merged.counts).toEqual({ create: a.counts.create + b.counts.create, replace: a.counts.replace + b.counts.replace, update: 0, delete: 0 });
        expect(merged.errors).toEqual(["fleet.shard-2-of-2: sim-edge-19: could not connect"]);
        expect(merged.failed).toBe(true);
        expect(renderText(merged).split("\n")[0]).toBe("stack fleet: 2 devices (2 changed), containers: 0 created, 2 replaced, 0 updated, 0 deleted");
    });
});
