/**
 * The pull-request check of one stack: `edge-fleet preview`, then its
 * Markdown as the stack's comment on the pull request (created once, updated
 * on every push) and in the job summary. Exits as the preview did, so a
 * mandatory policy violation fails the check after the comment says why.
 *
 *   npx tsx scripts/ci/preview-stack.ts --stack edge-jetson
 *
 * GitHub's runner provides GITHUB_TOKEN (passed by the workflow),
 * GITHUB_REPOSITORY, GITHUB_API_URL and GITHUB_EVENT_PATH.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { upsertComment } from "./comment";

const ROOT = path.resolve(__dirname, "..", "..");
const stack = process.argv[process.argv.indexOf("--stack") + 1];
if (!process.argv.includes("--stack") || !stack) throw new Error("usage: preview-stack.ts --stack <stack>");

async function main(): Promise<number> {
    const md = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-ci-")), "preview.md");
    // `edge-fleet preview` runs the repository's policy pack itself.
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "edge-fleet.cjs"), "preview", "--stack", stack!, "--markdown", md], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    const code = r.status ?? 1;
    // Without a report (the configuration is invalid, the stack cannot be
    // opened) the comment only points to the log, which has the messages.
    const markdown = fs.existsSync(md)
        ? fs.readFileSync(md, "utf8")
        : `### Preview of stack \`${stack}\`\n\n❌ the preview did not run (exit code ${code}); the check's log says why.\n`;
    if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
    const event = process.env.GITHUB_EVENT_PATH ? (JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, "utf8")) as { pull_request?: { number?: number } }) : {};
    const pr = event.pull_request?.number;
    if (pr && process.env.GITHUB_TOKEN && process.env.GITHUB_REPOSITORY) {
        const done = await upsertComment(fetch, { api: process.env.GITHUB_API_URL ?? "https://api.github.com", repository: process.env.GITHUB_REPOSITORY, pullRequest: pr, token: process.env.GITHUB_TOKEN }, stack!, markdown);
        console.log(`comment ${done.id} ${done.action} on pull request #${pr}`);
    } else {
        console.log("not a pull request: no comment posted");
    }
    return code;
}

main().then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
        console.error(`preview-stack: ${(e as Error)?.message ?? String(e)}`);
        process.exitCode = 1;
    },
);
