/**
 * Prints `stacks=<JSON list>` for $GITHUB_OUTPUT: the stacks touched by the
 * files changed between BASE and HEAD (a stack file: its stack; the program:
 * every stack). A BASE git does not know (the first push of a branch) counts
 * as a change of the program.
 *
 *   npx tsx scripts/ci/affected-stacks.ts --base origin/main
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { affectedStacks, repositoryStacks } from "./affected";

const ROOT = path.resolve(__dirname, "..", "..");
const base = process.argv[process.argv.indexOf("--base") + 1];
if (!process.argv.includes("--base") || !base) throw new Error("usage: affected-stacks.ts --base <git ref>");

function changedFiles(ref: string): string[] {
    try {
        return execFileSync("git", ["diff", "--name-only", `${ref}...HEAD`], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
    } catch {
        return ["index.ts"];
    }
}

const stacks = affectedStacks(changedFiles(base), repositoryStacks(fs.readdirSync(ROOT)));
process.stdout.write(`stacks=${JSON.stringify(stacks)}\n`);
