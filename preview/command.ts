/**
 * `edge-fleet preview`: collects a preview of the stack, prints the report
 * as text and, when asked, writes it as Markdown. The exit code tells CI
 * whether the pull request may go on.
 */
import * as fs from "node:fs";
import { collectPreview } from "./collect";
import { buildReport } from "./model";
import { renderMarkdown, renderText } from "./render";

export interface PreviewCommandOptions {
    readonly stack: string;
    readonly configFile: string | undefined;
    readonly workDir: string;
    readonly markdownFile?: string;
    readonly eventsFile?: string;
    readonly policyPacks?: readonly string[];
}

/** 0: previewed, no mandatory policy violated; 1: the preview failed or a mandatory policy was violated. */
export async function previewCommand(o: PreviewCommandOptions): Promise<number> {
    const collected = await collectPreview(o.stack, o.configFile, o.workDir, o.policyPacks ?? []);
    if (o.eventsFile) fs.writeFileSync(o.eventsFile, `${JSON.stringify(collected.events, null, 1)}\n`);
    const report = buildReport(o.stack, collected.events, collected.error);
    process.stdout.write(renderText(report));
    if (o.markdownFile) fs.writeFileSync(o.markdownFile, renderMarkdown(report));
    return report.failed ? 1 : 0;
}
