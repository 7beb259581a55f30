/**
 * Pure: a PreviewReport as text (the terminal) or Markdown (the pull-request
 * comment). Both carry the same lines in the same, sorted order, so what a
 * reviewer reads in the comment is what the command printed.
 */
import { markdownTable } from "markdown-table";
import { ContainerChange, DeviceReport, PolicyFinding, PreviewReport } from "./model";

const ACTION_TEXT: Readonly<Record<ContainerChange["action"], string>> = {
    create: "create",
    replace: "replace (downtime: removed, then created)",
    update: "update in place",
    delete: "delete",
};
const SIGN: Readonly<Record<ContainerChange["action"], string>> = { create: "+", replace: "±", update: "~", delete: "-" };
const STATUS_TEXT: Readonly<Record<DeviceReport["status"], string>> = { new: "new device", removed: "device removed", changed: "changes", unchanged: "no changes" };

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** `stack edge-jetson: 2 devices (1 new, 1 changed), containers: 8 created, 1 replaced, 0 updated, 0 deleted` */
export function summaryLine(r: PreviewReport): string {
    const by = (s: DeviceReport["status"]) => r.devices.filter((d) => d.status === s).length;
    const parts = [["new", by("new")], ["changed", by("changed")], ["removed", by("removed")]].filter(([, n]) => n !== 0).map(([s, n]) => `${n} ${s}`);
    const c = r.counts;
    return `stack ${r.stack}: ${plural(r.devices.length, "device")}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}, containers: ${c.create} created, ${c.replace} replaced, ${c.update} updated, ${c.delete} deleted`;
}

/** `± tv_api: replace (...), because of image`; in Markdown the service is bold instead of signed. */
export function containerHeadline(c: ContainerChange, markdown = false): string {
    const what = `${ACTION_TEXT[c.action]}${c.reasons.length > 0 ? `, because of ${c.reasons.join(", ")}` : ""}`;
    return markdown ? `**${c.service}**: ${what}` : `${SIGN[c.action]} ${c.service}: ${what}`;
}

export function policyLine(p: PolicyFinding): string {
    const where = [p.device, p.resource].filter(Boolean).join(" ");
    return `${p.level}: ${p.pack}/${p.policy}${where ? ` on ${where}` : ""}: ${p.message}`;
}

export function policySummary(r: PreviewReport): string {
    const mandatory = r.policies.filter((p) => p.level === "mandatory").length;
    if (r.policies.length === 0) return "policy violations: none";
    return `policy violations: ${r.policies.length} (${mandatory} mandatory)`;
}

function deviceHeadline(d: DeviceReport): string {
    return `${d.device}: ${STATUS_TEXT[d.status]}`;
}

export function renderText(r: PreviewReport): string {
    const out = [summaryLine(r), policySummary(r), ...r.policies.map((p) => `  ${policyLine(p)}`), ...r.errors.map((e) => `error: ${e}`)];
    for (const d of r.devices) {
        out.push("", deviceHeadline(d));
        for (const c of d.containers) out.push(`  ${containerHeadline(c)}`, ...c.lines.map((l) => `      ${l}`));
        for (const o of d.others) out.push(`  ${o.resource}: ${o.action}`);
    }
    return `${out.join("\n")}\n`;
}

/** Backticks in a value would end its code span; a vertical bar would end a table cell. */
const code = (s: string) => `\`${s.replaceAll("`", "'")}\``;

export function renderMarkdown(r: PreviewReport): string {
    const out = [`### Preview of stack ${code(r.stack)}`, "", `**${summaryLine(r)}**`, ""];
    out.push(r.failed ? "❌ this change must not be rolled out as it is (see below)" : "✅ no mandatory policy violated", "");
    const counted = r.devices.filter((d) => d.status !== "unchanged");
    if (counted.length > 0) {
        const count = (d: DeviceReport, a: ContainerChange["action"]) => String(d.containers.filter((c) => c.action === a).length);
        out.push(markdownTable([["device", "status", "created", "replaced", "updated", "deleted"], ...counted.map((d) => [d.device, STATUS_TEXT[d.status], count(d, "create"), count(d, "replace"), count(d, "update"), count(d, "delete")])]), "");
    }
    out.push(`#### ${policySummary(r)}`, "");
    for (const p of r.policies) out.push(`- ${p.level === "mandatory" ? "**mandatory**" : p.level}: ${code(`${p.pack}/${p.policy}`)}${p.device ? ` on ${[p.device, p.resource].filter(Boolean).join(" ")}` : ""}: ${p.message.replaceAll("\n", " ")}`);
    if (r.policies.length > 0) out.push("");
    for (const e of r.errors) out.push(`- error: ${e}`);
    if (r.errors.length > 0) out.push("");
    for (const d of r.devices) {
        out.push(`#### ${deviceHeadline(d)}`, "");
        if (d.containers.length + d.others.length === 0) continue;
        for (const c of d.containers) out.push(`- ${containerHeadline(c, true)}`, ...c.lines.map((l) => `  - ${l}`));
        for (const o of d.others) out.push(`- ${o.resource}: ${o.action}`);
        out.push("");
    }
    return `${out.join("\n").trimEnd()}\n`;
}
