/**
 * How figures are shown: the same aligned Markdown table on stdout (readable
 * as it is) and in bench-results.md, next to the machine's description; and
 * everything, notes and details included, in bench-results.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { markdownTable } from "markdown-table";
import { MachineDescription } from "./machine";
import { Figure, RoundResult, Scenario } from "./scenario";

export interface ScenarioReport {
    readonly id: string;
    readonly title: string;
    subtitle: string;
    readonly columns: readonly string[];
    readonly headers?: readonly string[];
    readonly ratio?: readonly [string, string];
    readonly rounds: RoundResult[];
    /** Per figure, the mean over the rounds; absent after one round. */
    mean?: Figure[];
    /** Set when the scenario failed; the rounds before it are kept. */
    error?: string;
}

export interface BenchReport {
    readonly startedAt: string;
    finishedAt?: string;
    readonly rounds: number;
    readonly device: string;
    machine?: MachineDescription;
    readonly scenarios: ScenarioReport[];
}

export function newScenarioReport(s: Scenario, subtitle: string): ScenarioReport {
    return { id: s.id, title: s.title, subtitle, columns: s.columns, headers: s.headers, ratio: s.ratio, rounds: [] };
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(1));

function ratio(r: ScenarioReport, f: Figure): string {
    if (!r.ratio) return "";
    const a = f.values[r.ratio[0]], b = f.values[r.ratio[1]];
    return typeof a === "number" && typeof b === "number" && b > 0 ? (a / b).toFixed(2) : "-";
}

export function figuresTable(r: ScenarioReport, figures: readonly Figure[]): string {
    const header = ["figure", ...(r.headers ?? r.columns.map((c) => `${c} s`)), ...(r.ratio ? ["ratio"] : [])];
    const rows = figures.map((f) => [f.label, ...r.columns.map((c) => fmt(f.values[c])), ...(r.ratio ? [ratio(r, f)] : [])]);
    return markdownTable([header, ...rows], { align: ["l", ...header.slice(1).map(() => "r" as const)] });
}

/** The mean of each figure over the rounds, to a tenth of a second. */
export function meanFigures(rounds: readonly RoundResult[]): Figure[] {
    const first = rounds[0]?.figures ?? [];
    return first.map((f) => {
        const values: Record<string, number | null> = {};
        for (const col of Object.keys(f.values)) {
            const xs = rounds.map((r) => r.figures.find((g) => g.id === f.id)?.values[col]).filter((x): x is number => typeof x === "number");
            values[col] = xs.length === rounds.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : null;
        }
        return { id: f.id, label: f.label, values };
    });
}

/** One round as printed on stdout while the bench runs. */
export function roundText(r: ScenarioReport, n: number, result: RoundResult): string {
    return [`\n${r.title}, round ${n}`, r.subtitle, figuresTable(r, result.figures), ...result.notes].join("\n");
}

export function meanText(r: ScenarioReport): string {
    return r.mean ? [`\n${r.title}, mean of ${r.rounds.length} rounds`, figuresTable(r, r.mean)].join("\n") : "";
}

function markdown(b: BenchReport): string {
    const out = [
        "# edge-fleet bench results",
        "",
        `Started ${b.startedAt}, finished ${b.finishedAt ?? "-"}; ${b.rounds} round(s) per scenario.`,
        "",
        markdownTable([["machine", ""], ...Object.entries(b.machine ?? {})]),
    ];
    for (const s of b.scenarios) {
        out.push("", `## ${s.title}`, "", s.subtitle, "");
        if (s.mean) out.push(`Mean of ${s.rounds.length} rounds:`, "");
        const figures = s.mean ?? s.rounds[0]?.figures;
        if (figures) out.push(figuresTable(s, figures), "");
        s.rounds.forEach((r, i) => r.notes.forEach((note) => out.push(`- ${s.rounds.length > 1 ? `round ${i + 1}: ` : ""}${note.trim()}`)));
        if (s.error) out.push(`- failed: ${s.error.split("\n")[0]}`);
    }
    return out.filter((line, i, all) => !(line === "" && all[i - 1] === "")).join("\n") + "\n";
}

/** Writes bench-results.json and bench-results.md into dir; returns their paths. */
export function writeResults(dir: string, b: BenchReport): string[] {
    const json = path.join(dir, "bench-results.json");
    const md = path.join(dir, "bench-results.md");
    fs.writeFileSync(json, JSON.stringify(b, null, 2) + "\n");
    fs.writeFileSync(md, markdown(b));
    return [json, md];
}
