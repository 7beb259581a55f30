/**
 * The command line: `edge-fleet rollout`, `edge-fleet drift` and
 * `edge-fleet preview`. Argument parsing is commander's; the work is in
 * rollout/ and preview/.
 */
import Table from "cli-table3";
import { Command, InvalidArgumentError, Option } from "commander";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { openKeyStore } from "../backend";
import { ConfigError } from "../config/errors";
import { DEFAULT_STACKS_AT_ONCE } from "../preview/collect";
import { previewCommand } from "../preview/command";
import { findDrift } from "../rollout/drift";
import { LiveProgress, PlainProgress, Progress } from "../rollout/progress";
import { RecordStore, RolloutRecord } from "../rollout/records";
import { runRollout } from "../rollout/run";
import { ROOT, applyProjectEnv, cacheDir, guardBackendSecret, localConfigFile } from "./env";

applyProjectEnv();
guardBackendSecret();

/** The `local` stack's config is generated from the repository's Pulumi.local.yaml and the simulated devices. */
function configFileFor(stack: string, given: string | undefined): string | undefined {
    if (given) return path.resolve(given);
    if (stack !== "local") return undefined;
    execFileSync("bash", [path.join(ROOT, "scripts", "local-config.sh")], { stdio: ["ignore", "ignore", "inherit"] });
    return localConfigFile();
}

/** The stack's rollout records, beside its state in whatever backend PULUMI_BACKEND_URL names. */
const storeFor = (stack: string) => RecordStore.open(openKeyStore(process.env.PULUMI_BACKEND_URL ?? "", cacheDir()), stack);

const program = new Command("edge-fleet")
    .description("Roll out the VV edge stack to a fleet of Docker devices over SSH, one Pulumi stack per hardware class.")
    .showHelpAfterError();

program
    .command("rollout")
    .description("move the stack's devices to what its stack file declares: canary, then waves, each gated on health; roll back on failure")
    .requiredOption("-s, --stack <stack>", "the stack to roll out (local, edge-jetson, ...)")
    .option("--config-file <file>", "stack config file (default: Pulumi.<stack>.yaml; for local, the generated one)")
    .option("--resume", "continue the stack's unfinished rollout (paused, interrupted or killed)")
    .option("--status", "print the stack's recent rollouts and exit")
    .option("--json", "print the result as JSON on stdout (progress goes to stderr)")
    .addOption(new Option("--progress <mode>", "live view or plain lines").choices(["auto", "live", "plain"]).default("auto"))
    .action(async (o: { stack: string; configFile?: string; resume?: boolean; status?: boolean; json?: boolean; progress: string }) => {
        if (o.status) {
            const store = await storeFor(o.stack);
            await store.close();
            return printStatus(store.list(10), o.json === true);
        }
        const out = o.json ? process.stderr : process.stdout;
        const live = o.progress === "live" || (o.progress === "auto" && out.isTTY === true);
        const progress: Progress = live ? new LiveProgress(out) : new PlainProgress(out);
        let stops = 0;
        const onSignal = (sig: string) => {
            stops += 1;
            progress.log(stops === 1 ? `${sig}: stopping after the devices in flight (again to stop harder)` : `${sig}: stopping now`);
            if (stops > 1) process.exit(130);
        };
        process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
        const { record, exitCode } = await runRollout({
            stackName: o.stack,
            configFile: configFileFor(o.stack, o.configFile),
            workDir: ROOT,
            resume: o.resume === true,
            store: storeFor,
            progress,
            stopRequested: () => stops > 0,
        }).finally(() => progress.stop());
        report(record, o.json === true);
        process.exitCode = stops > 0 && exitCode !== 0 ? 130 : exitCode;
    });

program
    .command("drift")
    .description("list per device and container what differs from the declared state; changes nothing. Exit 0: none, 2: drift, 1: error or unreachable device")
    .requiredOption("-s, --stack <stack>", "the stack to check")
    .option("--config-file <file>", "stack config file")
    .option("--json", "print the result as JSON")
    .action(async (o: { stack: string; configFile?: string; json?: boolean }) => {
        const r = await findDrift(o.stack, configFileFor(o.stack, o.configFile), ROOT);
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
            for (const u of r.unreachable) console.log(`${u.device}: unreachable (${u.reason})`);
            for (const d of r.drift) {
                console.log(`${d.device} ${d.resource}: ${d.op}`);
                for (const f of d.fields) console.log(`    ${f.field}: ${show(f.from)} → ${show(f.to)}`);
            }
            console.log(r.drift.length === 0 ? `no drift on ${r.unreachable.length === 0 ? "any device" : "the reachable devices"}` : `${r.drift.length} difference(s)`);
        }
        process.exitCode = r.unreachable.length > 0 ? 1 : r.drift.length > 0 ? 2 : 0;
    });

program
    .command("preview")
    .description("preview the stack (refreshing from the devices first) and show per device and container what will change and why. Exit 0: previewed, 1: the preview failed or a mandatory policy was violated")
    .requiredOption("-s, --stack <stack>", "the stack to preview")
    .option("--config-file <file>", "stack config file (default: Pulumi.<stack>.yaml; for local, the generated one)")
    .option("--markdown <file>", "also write the report as Markdown to this file (for a pull-request comment)")
    .option("--events <file>", "also write the engine's events of the preview as JSON to this file")
    .option("--policy-pack <path...>", "run these policy packs too, besides the project's own (policy/analyzer)")
    .option("--stacks-at-once <n>", `for a fleet split into shard stacks (edge-fleet:shards): how many to preview at once, 1-16 (default ${DEFAULT_STACKS_AT_ONCE})`, stacksAtOnce)
    .action(async (o: { stack: string; configFile?: string; markdown?: string; events?: string; policyPack?: string[]; stacksAtOnce?: number }) => {
        // The project's pack judges every preview, as it does every rollout.
        const policyPacks = [path.join(ROOT, "policy", "analyzer"), ...(o.policyPack ?? []).map((p) => path.resolve(p))];
        process.exitCode = await previewCommand({
            stack: o.stack,
            configFile: configFileFor(o.stack, o.configFile),
            workDir: ROOT,
            markdownFile: o.markdown,
            eventsFile: o.events,
            policyPacks,
            ...(o.stacksAtOnce ? { stacksAtOnce: o.stacksAtOnce } : {}),
        });
    });

function stacksAtOnce(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError(`must be a whole number from 1 to 16 (got ${JSON.stringify(value)})`);
    return n;
}

function show(v: unknown): string {
    if (v === undefined) return "(none)";
    const s = JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function report(r: RolloutRecord, json: boolean): void {
    if (json) {
        process.stdout.write(`${JSON.stringify(forReport(r), null, 2)}\n`);
        return;
    }
    const t = new Table({ head: ["device", "wave", "outcome", "before → after", "detail"], wordWrap: true, colWidths: [null, null, null, 44, 60], style: { head: [], border: [] } });
    for (const [name, d] of Object.entries(r.devices)) {
        // Digests after are known once the device's update ran to the end.
        const changes = Object.keys(d.after ? { ...d.before, ...d.after } : {})
            .filter((svc) => d.before?.[svc] !== d.after?.[svc])
            .map((svc) => `${svc}: ${short(d.before?.[svc])} → ${short(d.after?.[svc])}`);
        const problems = (d.problems ?? []).map((p) => `${p.service}: ${p.state}${p.healthOutput ? ` — last check: ${p.healthOutput}` : ""}`);
        t.push([name, String(d.wave), d.status, changes.join("\n") || "-", [d.reason, ...problems].filter(Boolean).join("\n") || "-"]);
    }
    console.log(t.toString());
    console.log(`rollout ${r.id} of stack ${r.stack}: ${r.status}; ${r.summary ?? ""}`);
}

/** A record as reported: the settings snapshots are for rollbacks, not for reading. */
function forReport(r: RolloutRecord): Omit<RolloutRecord, "beforeSettings"> {
    return Object.fromEntries(Object.entries(r).filter(([k]) => k !== "beforeSettings")) as Omit<RolloutRecord, "beforeSettings">;
}

const short = (ref: string | undefined) => (ref ? (ref.split("@")[1] ?? ref).replace(/^sha256:/, "").slice(0, 12) : "none");

function printStatus(records: RolloutRecord[], json: boolean): void {
    if (json) {
        process.stdout.write(`${JSON.stringify(records.map(forReport), null, 2)}\n`);
        return;
    }
    const t = new Table({ head: ["rollout", "status", "started", "finished", "devices", "summary"], wordWrap: true, colWidths: [null, null, null, null, null, 60], style: { head: [], border: [] } });
    for (const r of records) {
        const counts: Record<string, number> = {};
        for (const d of Object.values(r.devices)) counts[d.status] = (counts[d.status] ?? 0) + 1;
        t.push([r.id, r.status, r.startedAt, r.finishedAt ?? "-", Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", "), r.summary ?? ""]);
    }
    console.log(records.length === 0 ? "no rollouts recorded for this stack" : t.toString());
}

program.parseAsync().catch((e: unknown) => {
    if (e instanceof ConfigError) {
        console.error(e.message);
        process.exitCode = 2;
        return;
    }
    console.error(`edge-fleet: ${(e as Error)?.message ?? String(e)}`);
    process.exitCode = 1;
});
