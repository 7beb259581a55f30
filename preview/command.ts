/**
 * `edge-fleet preview`: collects a preview of the stack (of each of its
 * shard stacks when it is split) and prints the report as text and, when
 * asked, writes it as Markdown. The exit code tells CI whether the pull
 * request may go on.
 */
import { EngineEvent } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import { collectPreviews } from "./collect";
import { buildReport, mergeReports } from "./model";
import { renderMarkdown, renderText } from "./render";

export interface PreviewCommandOptions {
    readonly stack: string;
    readonly configFile: string | undefined;
    readonly workDir: string;
    readonly markdownFile?: string;
    readonly eventsFile?: string;
    readonly policyPacks?: readonly string[];
    /** Shard stacks previewed at once (collect.ts has the default). */
    readonly stacksAtOnce?: number;
}

/** 0: previewed, no mandatory policy violated; 1: the preview failed or a mandatory policy was violated. */
export async function previewCommand(o: PreviewCommandOptions): Promise<number> {
    // The events of a large fleet are only kept when asked for; each stack's report is built as it ends.
    const events: { stack: string; events: readonly EngineEvent[] }[] = [];
    const reports = await collectPreviews(o.stack, o.configFile, o.workDir, { policyPacks: o.policyPacks ?? [], ...(o.stacksAtOnce ? { stacksAtOnce: o.stacksAtOnce } : {}) }, (c) => {
        if (o.eventsFile) events.push({ stack: c.stack, events: c.events });
        return buildReport(c.stack, c.events, c.error);
    });
    if (o.eventsFile) fs.writeFileSync(o.eventsFile, `${JSON.stringify(events.length === 1 ? events[0]!.events : events, null, 1)}\n`);
    const report = reports.length === 1 ? reports[0]! : mergeReports(o.stack, reports);
    process.stdout.write(renderText(report));
    if (o.markdownFile) fs.writeFileSync(o.markdownFile, renderMarkdown(report));
    return report.failed ? 1 : 0;
}
