/**
 * Pure: the engine's events of a preview turned into what a reviewer reads,
 * per device and per container: the action, why a container is replaced,
 * and each changed field. Devices are known from their EdgeDevice
 * components, resources by their names (`<device>-<service>`,
 * `<device>-<service>-image`, `<device>-<network>`), as components/ names them.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { containerFieldLines, createdSummary, describeReasons, replaceReasons } from "./fields";

export type ContainerAction = "create" | "replace" | "update" | "delete";

export interface ContainerChange {
    readonly service: string;
    readonly action: ContainerAction;
    /** Human names of the fields the provider says force the replacement. */
    readonly reasons: readonly string[];
    /** One line per changed field: `memory 256 → 320 MiB`. */
    readonly lines: readonly string[];
}

export interface OtherChange {
    /** `network vv_backend`, `volume grafana_data`. */
    readonly resource: string;
    readonly action: string;
}

export interface DeviceReport {
    readonly device: string;
    readonly status: "new" | "removed" | "changed" | "unchanged";
    readonly containers: readonly ContainerChange[];
    readonly others: readonly OtherChange[];
}

export interface PolicyFinding {
    readonly level: string;
    readonly pack: string;
    readonly policy: string;
    readonly device?: string;
    readonly resource?: string;
    readonly message: string;
}

export type Counts = Record<ContainerAction, number>;

export interface PreviewReport {
    readonly stack: string;
    readonly devices: readonly DeviceReport[];
    readonly counts: Counts;
    readonly policies: readonly PolicyFinding[];
    /** Error lines of the engine and of resources, when the preview failed. */
    readonly errors: readonly string[];
    /** The preview failed, or a mandatory policy was violated: the change must not go on. */
    readonly failed: boolean;
}

const DEVICE_TYPE = "edge-fleet:device:EdgeDevice";
const CONTAINER_TYPE = "docker:index/container:Container";
const IMAGE_TYPE = "docker:index/remoteImage:RemoteImage";
const OTHER_TYPES: Readonly<Record<string, string>> = { "docker:index/network:Network": "network", "docker:index/volume:Volume": "volume" };
/** Steps that change nothing on a device. */
const QUIET = new Set(["same", "read", "refresh", "discard", "remove-pending-replace"]);
const REPLACE_OPS = new Set(["replace", "create-replacement", "delete-replaced"]);

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const byName = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
// Engine text carries ANSI colours and may span lines; a report line is plain.
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").replace(/<\{%[^%]*%\}>/g, "").trim();

/** One resource's steps merged: a replacement shows as several steps of the same URN. */
interface Merged {
    op: string;
    meta: StepEventMetadata;
    keys: Set<string>;
}

function mergeSteps(events: readonly EngineEvent[]): Map<string, Merged> {
    const steps = new Map<string, Merged>();
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        if (!m) continue;
        const prev = steps.get(m.urn);
        const op = REPLACE_OPS.has(m.op) ? "replace" : m.op;
        if (!prev) {
            steps.set(m.urn, { op, meta: m, keys: new Set(m.keys ?? []) });
            continue;
        }
        if (QUIET.has(prev.op) || op === "replace") prev.op = op;
        for (const k of m.keys ?? []) prev.keys.add(k);
        // The step that has both states and the diff tells the most.
        if (m.old && m.new && (m.detailedDiff || !prev.meta.detailedDiff)) prev.meta = m;
    }
    return steps;
}

function deviceOf(name: string, devices: readonly string[]): string | undefined {
    let best: string | undefined;
    for (const d of devices) if ((name === d || name.startsWith(`${d}-`)) && (best === undefined || d.length > best.length)) best = d;
    return best;
}

function policyFindings(events: readonly EngineEvent[], devices: readonly string[]): PolicyFinding[] {
    const out: PolicyFinding[] = [];
    for (const e of events) {
        const p = e.policyEvent;
        if (!p) continue;
        const name = p.resourceUrn ? nameOf(p.resourceUrn) : undefined;
        const device = name ? deviceOf(name, devices) : undefined;
        const resource = name && device && name !== device ? name.slice(device.length + 1) : name;
        out.push({ level: p.enforcementLevel, pack: p.policyPackName, policy: p.policyName, ...(device ? { device } : {}), ...(resource ? { resource } : {}), message: plain(p.message) });
    }
    const key = (f: PolicyFinding) => `${f.level === "mandatory" ? 0 : 1} ${f.pack} ${f.policy} ${f.device ?? ""} ${f.resource ?? ""} ${f.message}`;
    return out.sort(byName(key)).filter((f, i, all) => i === 0 || key(all[i - 1]!) !== key(f));
}

function errorLines(events: readonly EngineEvent[], error: string | undefined): string[] {
    const lines = events
        .map((e) => e.diagnosticEvent)
        .filter((d) => d !== undefined && d.severity === "error" && !d.ephemeral)
        .map((d) => `${d!.urn ? `${nameOf(d!.urn)}: ` : ""}${firstMessageLine(plain(d!.message))}`);
    if (error && lines.length === 0) {
        const cli = error.split("\n").map((l) => /(?:^|\s)error: (.+)$/.exec(l)?.[1]).find(Boolean);
        lines.push(plain(cli ?? error.split("\n")[0] ?? "the preview failed"));
    }
    return [...new Set(lines)].sort();
}

/** The first line, or for a program's unhandled exception the error itself, which the engine puts on the next line. */
function firstMessageLine(message: string): string {
    const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
    if (/unhandled exception:$/.test(lines[0] ?? "") && lines[1]) return `${lines[0]} ${lines[1]}`;
    return lines[0] ?? "";
}

export function buildReport(stack: string, events: readonly EngineEvent[], error?: string): PreviewReport {
    const steps = mergeSteps(events);
    const devices = [...steps.values()].filter((s) => s.meta.type === DEVICE_TYPE).map((s) => nameOf(s.meta.urn)).sort();
    const perDevice = new Map(devices.map((d) => [d, { containers: [] as ContainerChange[], others: [] as OtherChange[] }]));
    const counts: Counts = { create: 0, replace: 0, update: 0, delete: 0 };
    for (const s of steps.values()) {
        if (QUIET.has(s.op)) continue;
        const name = nameOf(s.meta.urn);
        const device = deviceOf(name, devices);
        if (!device) continue;
        const rest = name.slice(device.length + 1);
        if (s.meta.type === CONTAINER_TYPE) {
            const action = s.op as ContainerAction;
            if (!(action in counts)) continue;
            counts[action] += 1;
            const image = steps.get(s.meta.urn.replace(`${CONTAINER_TYPE}::${name}`, `${IMAGE_TYPE}::${name}-image`));
            const lines = action === "create" ? createdSummary(s.meta) : action === "delete" ? [] : containerFieldLines(s.meta, image?.meta);
            const reasons = action === "replace" ? describeReasons(replaceReasons(s.meta, s.keys)) : [];
            perDevice.get(device)!.containers.push({ service: rest, action, reasons, lines });
        } else if (OTHER_TYPES[s.meta.type]) {
            // The Docker name (vv_backend) is what people know, not the resource's.
            const docker: unknown = s.meta.new?.inputs?.name ?? s.meta.old?.inputs?.name;
            perDevice.get(device)!.others.push({ resource: `${OTHER_TYPES[s.meta.type]} ${typeof docker === "string" ? docker : rest}`, action: s.op });
        }
    }
    const report: DeviceReport[] = devices.map((device) => {
        const op = [...steps.values()].find((s) => s.meta.type === DEVICE_TYPE && nameOf(s.meta.urn) === device)!.op;
        const d = perDevice.get(device)!;
        const changed = d.containers.length + d.others.length > 0;
        return {
            device,
            status: op === "create" ? "new" : op === "delete" ? "removed" : changed ? "changed" : "unchanged",
            containers: d.containers.sort(byName((c) => c.service)),
            others: d.others.sort(byName((o) => o.resource)),
        };
    });
    const policies = policyFindings(events, devices);
    const errors = errorLines(events, error);
    return { stack, devices: report, counts, policies, errors, failed: errors.length > 0 || policies.some((p) => p.level === "mandatory") };
}

/**
 * One report for a fleet previewed stack by stack (its shard stacks, see
 * plan/shards.ts): devices in name order, counts added up, and each error
 * prefixed with the stack it came from.
 */
export function mergeReports(stack: string, parts: readonly PreviewReport[]): PreviewReport {
    const counts: Counts = { create: 0, replace: 0, update: 0, delete: 0 };
    for (const p of parts) for (const k of Object.keys(counts) as ContainerAction[]) counts[k] += p.counts[k];
    const errors = parts.flatMap((p) => p.errors.map((e) => `${p.stack}: ${e}`));
    const policies = parts.flatMap((p) => p.policies);
    return {
        stack,
        devices: parts.flatMap((p) => p.devices).sort(byName((d) => d.device)),
        counts,
        policies,
        errors,
        failed: parts.some((p) => p.failed),
    };
}
