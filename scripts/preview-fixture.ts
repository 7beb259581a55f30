/**
 * Turns the events of a real preview (`edge-fleet preview --events FILE`) into
 * a unit-test fixture of preview/: only the events the renderer reads, only
 * the inputs of the resources it describes, and nothing of the machine they
 * were captured on (addresses, storage paths, host keys).
 *
 *   npx tsx scripts/preview-fixture.ts EVENTS.json > test/unit/fixtures/preview/NAME.json
 */
import * as fs from "node:fs";
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";

const DESCRIBED = new Set(["docker:index/container:Container", "docker:index/remoteImage:RemoteImage", "docker:index/network:Network", "docker:index/volume:Volume"]);

function reduceStep(m: StepEventMetadata): StepEventMetadata {
    const keep = m.op !== "same" && DESCRIBED.has(m.type);
    const digest: unknown = m.old?.outputs?.repoDigest;
    return {
        op: m.op,
        urn: m.urn,
        type: m.type,
        provider: "",
        ...(m.keys ? { keys: m.keys } : {}),
        ...(m.diffs ? { diffs: m.diffs } : {}),
        ...(m.detailedDiff ? { detailedDiff: m.detailedDiff } : {}),
        ...(keep && m.old ? { old: { ...m.old, outputs: digest ? { repoDigest: digest } : {}, provider: "", id: "", parent: "" } } : {}),
        ...(keep && m.new ? { new: { ...m.new, outputs: {}, provider: "", id: "", parent: "" } } : {}),
    };
}

function scrub(text: string): string {
    return text
        .replace(/10\.77\.0\.1:5000/g, "registry.example:5000")
        .replace(/10\.77\.0\.(\d+)/g, "192.0.2.$1")
        .replace(/\/var\/lib\/edge-fleet-sim\/[^/"]+\/[^/"]+/g, "/srv/vv-video")
        .replace(/ssh-ed25519 [A-Za-z0-9+/=]+/g, "ssh-ed25519 AAAA")
        .replace(/\/(root|home\/[^/"]+|tmp)\/[^"]*/g, "/scrubbed");
}

const events = JSON.parse(fs.readFileSync(process.argv[2]!, "utf8")) as EngineEvent[];
const kept = events.flatMap((e): EngineEvent[] => {
    const m = e.resourcePreEvent?.metadata;
    if (m) return m.op === "refresh" ? [] : [{ sequence: 0, timestamp: 0, resourcePreEvent: { metadata: reduceStep(m) } }];
    if (e.policyEvent) return [{ sequence: 0, timestamp: 0, policyEvent: e.policyEvent }];
    if (e.diagnosticEvent?.severity === "error") return [{ sequence: 0, timestamp: 0, diagnosticEvent: e.diagnosticEvent }];
    return [];
});
process.stdout.write(`${scrub(JSON.stringify(kept.map((e, i) => ({ ...e, sequence: i })), null, 1))}\n`);
