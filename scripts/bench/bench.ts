/**
 * `npm run bench`: runs the bench scenarios (scripts/bench/scenarios/) round
 * by round, prints each round's figures as a table on stdout (progress goes to
 * stderr), and writes bench-results.json and bench-results.md, with the
 * machine's description, to $EDGE_FLEET_CACHE/bench/.
 *
 *   node scripts/bench/run-ts.cjs scripts/bench/bench.ts
 *
 * scripts/bench.sh runs it after building the toolchain and starting the
 * registry and the bench's device; run it directly only after that.
 * Environment:
 *   EDGE_FLEET_BENCH_DEVICE     the simulated device to use (sim-edge-04)
 *   EDGE_FLEET_BENCH_ENGINE_DEVICE  the device on a current Docker Engine,
 *                               scenario current-engine (sim-edge-09)
 *   EDGE_FLEET_BENCH_ROUNDS     rounds per scenario (1)
 *   EDGE_FLEET_BENCH_SCENARIOS  comma-separated scenario ids (all)
 *   EDGE_FLEET_STACK_DIR        generated stack files ($EDGE_FLEET_CACHE/stacks)
 * Logs and generated files stay in the bench directory, which is emptied at
 * the start. What a scenario deploys is removed at its end, also after a
 * failure or Ctrl-C; devices keep running.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeMachine, loadAverage } from "./lib/machine";
import { BenchReport, meanFigures, meanText, newScenarioReport, roundText, writeResults } from "./lib/report";
import { stopRunning } from "./lib/run";
import { BenchContext, Scenario } from "./lib/scenario";
import { SCENARIOS } from "./scenarios";

const log = (message: string) => console.error(`[edge-fleet] ${message}`);

function settings() {
    const cacheDir = process.env.EDGE_FLEET_CACHE ?? path.join(os.homedir(), ".cache", "edge-fleet");
    const rounds = process.env.EDGE_FLEET_BENCH_ROUNDS ?? "1";
    if (!/^[1-9][0-9]*$/.test(rounds)) throw new Error("EDGE_FLEET_BENCH_ROUNDS must be a positive integer");
    const wanted = (process.env.EDGE_FLEET_BENCH_SCENARIOS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((id) => !SCENARIOS.some((s) => s.id === id));
    if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`);
    return {
        cacheDir,
        rounds: Number(rounds),
        device: process.env.EDGE_FLEET_BENCH_DEVICE ?? "sim-edge-04",
        stackDir: process.env.EDGE_FLEET_STACK_DIR ?? path.join(cacheDir, "stacks"),
        scenarios: wanted.length > 0 ? SCENARIOS.filter((s) => wanted.includes(s.id)) : SCENARIOS,
    };
}

/**
 * First SIGINT/SIGTERM: abort, and ask the running tools to stop as after
 * Ctrl-C (Pulumi then finishes the operations under way, possibly minutes,
 * and saves its state) so that cleanup can remove what they made. Second: exit.
 */
function handleSignals(controller: AbortController): void {
    const onSignal = () => {
        if (controller.signal.aborted) process.exit(130);
        log("interrupted: stopping the running deploy, then cleaning up (again to exit at once)");
        controller.abort();
        void stopRunning();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
}

async function runScenario(s: Scenario, ctx: BenchContext, report: BenchReport, tools: Record<string, string>): Promise<boolean> {
    const run = s.create(ctx);
    const r = newScenarioReport(s, "");
    report.scenarios.push(r);
    log(`${s.id}: ${ctx.rounds} round(s) on ${ctx.device}; logs in ${ctx.benchDir}`);
    try {
        await run.prepare();
        r.subtitle = run.subtitle();
        for (let n = 1; n <= ctx.rounds; n++) {
            const dir = path.join(ctx.benchDir, s.id, `round-${n}`);
            fs.mkdirSync(dir, { recursive: true });
            const result = await run.round(n, dir);
            r.rounds.push(result);
            r.subtitle = run.subtitle();
            console.log(roundText(r, n, result));
        }
        if (ctx.rounds > 1) {
            r.mean = meanFigures(r.rounds);
            console.log(meanText(r));
        }
        Object.assign(tools, await run.tools());
        return true;
    } catch (e) {
        r.error = ctx.signal.aborted ? "interrupted" : String((e as Error).message ?? e);
        log(`${s.id} failed: ${r.error}`);
        return false;
    } finally {
        await run.cleanup().catch((e: Error) => log(`${s.id}: cleanup failed: ${e.message}`));
    }
}

async function main(): Promise<number> {
    const o = settings();
    const benchDir = path.join(o.cacheDir, "bench");
    fs.rmSync(benchDir, { recursive: true, force: true });
    fs.mkdirSync(benchDir, { recursive: true });
    const controller = new AbortController();
    handleSignals(controller);
    const ctx: BenchContext = {
        root: path.resolve(__dirname, "..", ".."),
        cacheDir: o.cacheDir,
        benchDir,
        stackDir: o.stackDir,
        device: o.device,
        rounds: o.rounds,
        signal: controller.signal,
        log,
    };
    const loadAtStart = loadAverage();
    const report: BenchReport = { startedAt: new Date().toISOString(), rounds: o.rounds, device: o.device, scenarios: [] };
    const tools: Record<string, string> = {};
    let ok = true;
    for (const s of o.scenarios) {
        ok = (await runScenario(s, ctx, report, tools)) && ok;
        if (controller.signal.aborted) break;
    }
    report.machine = await describeMachine(tools, loadAtStart);
    report.finishedAt = new Date().toISOString();
    for (const file of writeResults(benchDir, report)) log(`wrote ${file}`);
    if (controller.signal.aborted) return 130;
    return ok ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: Error) => {
        log(`error: ${e.message}`);
        process.exit(1);
    },
);
