/**
 * What a bench scenario is. A scenario measures one thing (deploys to one
 * device against docker compose, a rollout over several devices, ...) in
 * rounds; scripts/bench/bench.ts runs the scenarios listed in
 * scripts/bench/scenarios/index.ts, prints each round's figures as they come
 * and writes them all to bench-results.json and bench-results.md.
 */

export interface BenchContext {
    /** The repository. */
    readonly root: string;
    /** EDGE_FLEET_CACHE: built tools, the simulation, Pulumi's state. */
    readonly cacheDir: string;
    /** Where results and logs go; emptied when the bench starts. */
    readonly benchDir: string;
    /** Generated stack config files and the passphrase of their secrets. */
    readonly stackDir: string;
    /** The simulated device the bench may use (EDGE_FLEET_BENCH_DEVICE). */
    readonly device: string;
    readonly rounds: number;
    /** Aborted on SIGINT/SIGTERM; long waits pass it on. */
    readonly signal: AbortSignal;
    log(message: string): void;
}

/** One measured quantity, in seconds, per column (e.g. per tool compared). */
export interface Figure {
    /** Stable key in bench-results.json, e.g. "cold". */
    readonly id: string;
    /** As printed, e.g. "cold deploy -> all healthy". */
    readonly label: string;
    readonly values: Readonly<Record<string, number | null>>;
}

export interface RoundResult {
    readonly figures: readonly Figure[];
    /** Lines printed under the round's table and listed in the Markdown. */
    readonly notes: readonly string[];
    /** Anything else worth keeping, in bench-results.json only. */
    readonly details?: Readonly<Record<string, unknown>>;
}

export interface ScenarioRun {
    /** A line under the title: what runs where. Read after prepare(). */
    subtitle(): string;
    /** Versions of the tools it runs, for the machine description (e.g. "docker compose": "2.40.3"). */
    tools(): Promise<Readonly<Record<string, string>>>;
    /** Makes what the rounds need; also removes what an interrupted run left. */
    prepare(): Promise<void>;
    /** Round n (1-based); logs and generated files go to dir. */
    round(n: number, dir: string): Promise<RoundResult>;
    /** Always called, after prepare() too if it failed half-way, and after an interrupt. */
    cleanup(): Promise<void>;
}

export interface Scenario {
    /** For EDGE_FLEET_BENCH_SCENARIOS and the key in bench-results.json. */
    readonly id: string;
    readonly title: string;
    /** The columns of its figures, in order. */
    readonly columns: readonly string[];
    /** The columns' headings as printed, when not all seconds (default: `<column> s`). */
    readonly headers?: readonly string[];
    /** When set, a column with columns[a] / columns[b] is added. */
    readonly ratio?: readonly [string, string];
    create(ctx: BenchContext): ScenarioRun;
}
