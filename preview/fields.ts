/**
 * Pure: a container step's changed inputs in the units people use. The
 * inputs are the docker provider's (components/serviceContainer.ts sets
 * them): memory in MiB, CPUs as a decimal string, durations as "30s".
 * Values the engine marks secret arrive as "[secret]" and stay so; the values
 * of environment settings whose name says they are secret are never shown.
 */
import type { StepEventMetadata } from "@pulumi/pulumi/automation";

/** What the engine puts in a preview for a value only known once deployed. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SECRETISH = /PASS|TOKEN|SECRET|KEY|CREDENTIAL|AUTH/i;

type Inputs = Record<string, unknown>;

const FIELD_NAMES: Readonly<Record<string, string>> = {
    image: "image",
    memory: "memory",
    memorySwap: "swap limit",
    cpus: "CPUs",
    healthcheck: "healthcheck",
    restart: "restart policy",
    maxRetryCount: "restart retries",
    volumes: "mounts",
    networksAdvanced: "networks",
    ports: "ports",
    envs: "environment",
    labels: "labels",
    uploads: "uploaded files",
    runtime: "runtime",
    gpus: "GPUs",
    command: "command",
    waitTimeout: "health wait",
};

/**
 * Labels the program derives from other fields (config/defaults.ts,
 * LABEL_PREFIX): the field's own line says what changed, and a replacement
 * they force is the field's doing.
 */
const DERIVED_LABELS: Readonly<Record<string, string>> = {
    "edge-fleet.image": "image",
    "edge-fleet.limits": "memory/CPU limits",
    "edge-fleet.healthcheck": "healthcheck",
};

/** Fields in the order a reviewer reads them; others follow by name. */
const ORDER = ["image", "memory", "memorySwap", "cpus", "healthcheck", "waitTimeout", "restart", "maxRetryCount", "volumes", "networksAdvanced", "ports", "envs", "labels"];
const rank = (f: string) => (ORDER.includes(f) ? ORDER.indexOf(f) : ORDER.length);

export const topField = (path: string) => path.split(/[.[]/)[0]!;

/** Top-level inputs the provider says force a replacement: the step's keys and the diff's `*-replace` kinds. */
export function replaceReasons(m: StepEventMetadata, keys: ReadonlySet<string>): string[] {
    const out = new Set([...keys].map(topField));
    for (const [p, d] of Object.entries(m.detailedDiff ?? {})) if (String(d.diffKind).endsWith("-replace")) out.add(topField(p));
    if (!out.has("labels")) return [...out].sort();
    // A derived label names the field behind it; other labels stay "labels".
    out.delete("labels");
    const o = keyValues(m.old?.inputs?.labels, labelEntry);
    const n = keyValues(m.new?.inputs?.labels, labelEntry);
    for (const k of new Set([...o.keys(), ...n.keys()])) if (o.get(k) !== n.get(k)) out.add(DERIVED_LABELS[k] ?? "labels");
    return [...out].sort();
}

export const describeReasons = (fields: readonly string[]) => [...new Set(fields.map((f) => FIELD_NAMES[f] ?? f))].sort();

function changedFields(m: StepEventMetadata): string[] {
    const paths = Object.keys(m.detailedDiff ?? {});
    return [...new Set((paths.length > 0 ? paths : (m.diffs ?? [])).map(topField))].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function show(v: unknown): string {
    if (v === undefined || v === null || v === "") return "(none)";
    if (v === UNKNOWN) return "(known after deploy)";
    if (typeof v === "string") return v;
    const s = JSON.stringify(v).replaceAll(JSON.stringify(UNKNOWN), '"(known after deploy)"');
    return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

/** `repo`, `tag`, `digest` of an image reference such as `host:5000/ns/tv_api:1.0.0@sha256:...`. */
export function parseImageRef(ref: string): { repo: string; tag?: string; digest?: string } {
    const [withTag, digest] = ref.split("@") as [string, string | undefined];
    const slash = withTag.lastIndexOf("/");
    const colon = withTag.lastIndexOf(":");
    const hasTag = colon > slash;
    return { repo: hasTag ? withTag.slice(0, colon) : withTag, ...(hasTag ? { tag: withTag.slice(colon + 1) } : {}), ...(digest ? { digest } : {}) };
}

const shortDigest = (d: string | undefined) => (d ? d.slice(0, 19) : "(none)");

function imageLines(oldRef: unknown, newRef: unknown, image?: StepEventMetadata): string[] {
    if (typeof oldRef !== "string" || typeof newRef !== "string" || newRef === UNKNOWN) return [`image ${show(oldRef)} → ${show(newRef)}`];
    const o = parseImageRef(oldRef);
    const n = parseImageRef(newRef);
    const lines = o.repo === n.repo ? [] : [`image ${o.repo} → ${n.repo}`];
    if (o.tag !== n.tag) lines.push(`image tag ${o.tag ?? "(none)"} → ${n.tag ?? "(none)"}`);
    // The digest running now is what the device pulled (the image's repoDigest);
    // the new one is the pinned digest, or whatever the tag points to when pulled.
    const pulled: unknown = image?.old?.outputs?.repoDigest;
    const oldDigest = o.digest ?? (typeof pulled === "string" ? parseImageRef(pulled).digest : undefined);
    if (oldDigest !== n.digest) lines.push(`image digest ${shortDigest(oldDigest)} → ${n.digest ? shortDigest(n.digest) : "resolved when pulled"}`);
    return lines;
}

function healthcheckLines(o: Inputs | undefined, n: Inputs | undefined): string[] {
    const names: [string, string][] = [["tests", "test"], ["interval", "interval"], ["timeout", "timeout"], ["retries", "retries"], ["startPeriod", "start period"], ["startInterval", "start interval"]];
    const lines: string[] = [];
    for (const [key, label] of names) {
        const a = o?.[key];
        const b = n?.[key];
        if (JSON.stringify(a) === JSON.stringify(b)) continue;
        const fmt = (v: unknown) => (Array.isArray(v) ? `\`${v.join(" ")}\`` : show(v));
        lines.push(`healthcheck ${label} ${fmt(a)} → ${fmt(b)}`);
    }
    return lines;
}

const asList = (v: unknown): Inputs[] => (Array.isArray(v) ? (v as Inputs[]) : []);

function setLines(label: string, o: string[], n: string[]): string[] {
    const removed = o.filter((x) => !n.includes(x)).sort();
    const added = n.filter((x) => !o.includes(x)).sort();
    return [...removed.map((x) => `${label} - ${x}`), ...added.map((x) => `${label} + ${x}`)];
}

const mount = (m: Inputs) => `${m.hostPath !== undefined ? show(m.hostPath) : `volume ${show(m.volumeName)}`} → ${show(m.containerPath)}${m.readOnly ? " (ro)" : ""}`;
const port = (p: Inputs) => `${show(p.ip ?? "0.0.0.0")}:${show(p.external)}→${show(p.internal)}/${show(p.protocol ?? "tcp")}`;
const network = (x: Inputs) => `${show(x.name)}${asList(x.aliases).length > 0 ? ` (aliases ${(x.aliases as string[]).join(", ")})` : ""}`;

function keyValues(v: unknown, split: (x: unknown) => [string, string]): Map<string, string> {
    return new Map((Array.isArray(v) ? v : []).map(split));
}

function mapLines(label: string, o: Map<string, string>, n: Map<string, string>, hide: (k: string, v: string) => boolean): string[] {
    const lines: string[] = [];
    const val = (k: string, v: string) => (hide(k, v) ? "(value hidden)" : show(v));
    for (const k of [...new Set([...o.keys(), ...n.keys()])].sort()) {
        const a = o.get(k);
        const b = n.get(k);
        if (a === b) continue;
        if (a === undefined) lines.push(`${label} + ${k}=${val(k, b!)}`);
        else if (b === undefined) lines.push(`${label} - ${k}`);
        else lines.push(hide(k, a) || hide(k, b) ? `${label} ${k} changed (value hidden)` : `${label} ${k} ${show(a)} → ${show(b)}`);
    }
    return lines;
}

const envEntry = (x: unknown): [string, string] => {
    const s = String(x);
    const i = s.indexOf("=");
    return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
};
const labelEntry = (x: unknown): [string, string] => [String((x as Inputs).label), String((x as Inputs).value)];
const withoutDerived = (m: Map<string, string>) => new Map([...m].filter(([k]) => !(k in DERIVED_LABELS)));
const hideEnv = (k: string, v: string) => SECRETISH.test(k) || v === "[secret]" || v.includes("[secret]");

function fieldLines(field: string, o: unknown, n: unknown, image?: StepEventMetadata): string[] {
    switch (field) {
        case "image":
            return imageLines(o, n, image);
        case "memory":
            return [`memory ${show(o)} → ${show(n)} MiB`];
        case "memorySwap":
            return [`memory+swap ${show(o)} → ${show(n)} MiB`];
        case "cpus":
            return [`CPUs ${show(o)} → ${show(n)}`];
        case "healthcheck":
            return healthcheckLines(o as Inputs | undefined, n as Inputs | undefined);
        case "restart":
            return [`restart policy ${show(o)} → ${show(n)}`];
        case "maxRetryCount":
            return [`restart retries ${show(o)} → ${show(n)}`];
        case "volumes":
            return setLines("mount", asList(o).map(mount), asList(n).map(mount));
        case "networksAdvanced":
            return setLines("network", asList(o).map(network), asList(n).map(network));
        case "ports":
            return setLines("port", asList(o).map(port), asList(n).map(port));
        case "envs":
            return mapLines("environment", keyValues(o, envEntry), keyValues(n, envEntry), hideEnv);
        case "labels":
            return mapLines("label", withoutDerived(keyValues(o, labelEntry)), withoutDerived(keyValues(n, labelEntry)), (_k, v) => v.includes("[secret]"));
        case "waitTimeout":
            return [`health wait ${show(o)}s → ${show(n)}s`];
        case "uploads":
            // Their content is secret (the registry login); only say that they change.
            return ["uploaded files changed (content not shown)"];
        default:
            return [`${FIELD_NAMES[field] ?? field} ${show(o)} → ${show(n)}`];
    }
}

/** Lines for an in-place update or a replacement: one per changed input, in field order. */
export function containerFieldLines(m: StepEventMetadata, image?: StepEventMetadata): string[] {
    const o = (m.old?.inputs ?? {}) as Inputs;
    const n = (m.new?.inputs ?? {}) as Inputs;
    const fields = changedFields(m);
    // The swap limit follows the memory limit (components/serviceContainer.ts): one line says both.
    const skipSwap = fields.includes("memory") && o.memory === o.memorySwap && n.memory === n.memorySwap;
    return fields.filter((f) => !(f === "memorySwap" && skipSwap)).flatMap((f) => fieldLines(f, o[f], n[f], image));
}

/** What a new container will run, in one line. */
export function createdSummary(m: StepEventMetadata): string[] {
    const n = (m.new?.inputs ?? {}) as Inputs;
    const ref = typeof n.image === "string" && n.image !== UNKNOWN ? parseImageRef(n.image) : undefined;
    const image = ref ? `image ${ref.repo.slice(ref.repo.lastIndexOf("/") + 1)}:${ref.tag ?? ref.digest ?? "latest"}` : "image (known after deploy)";
    return [`${image}, memory ${show(n.memory)} MiB, CPUs ${show(n.cpus)}`];
}
