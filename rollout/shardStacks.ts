/**
 * The Pulumi stacks that deploy one fleet stack: the stack itself, or, when
 * its file sets `edge-fleet:shards`, its shard stacks (plan/shards.ts), which
 * are created here on first use. Every shard stack runs with the fleet's own
 * stack file (`--config-file`), so the fleet is declared, and its secrets
 * encrypted, in one file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { FleetConfig, RawConfig } from "../config/model";
import { parseFleetConfig } from "../config/parse";
import { parseShardStack, planShards, shardStackName } from "../plan/shards";
import { FleetStack, PROJECT, openStack, readStackConfig } from "./pulumiStack";

export interface StackOfFleet {
    readonly s: FleetStack;
    /** The devices this stack declares. */
    readonly devices: readonly string[];
}

export interface FleetStacks {
    readonly fleet: FleetConfig;
    readonly raw: RawConfig;
    /** One entry when the fleet is not split; else every shard, empty ones too (they may still hold a removed device). */
    readonly stacks: readonly StackOfFleet[];
}

/**
 * The shard count the stack file asks for, read from the file itself: the
 * shard stacks have to be known before any stack can be opened to read the
 * configuration through Pulumi. Anything but a whole number is left to
 * parseFleetConfig to refuse, with the field and the value.
 */
export function shardCountOf(configFile: string | undefined): number {
    if (!configFile || !fs.existsSync(configFile)) return 1;
    const doc = YAML.parse(fs.readFileSync(configFile, "utf8")) as { config?: Record<string, unknown> } | null;
    // `pulumi config set` writes plain values back as strings.
    const v = Number(doc?.config?.[`${PROJECT}:shards`]);
    return Number.isInteger(v) && v >= 1 ? v : 1;
}

/** Opens the stacks of `name` and parses its configuration (ConfigError before any device is contacted). */
export async function openFleetStacks(name: string, configFile: string | undefined, projectDir: string): Promise<FleetStacks> {
    const file = configFile ?? path.join(projectDir, `Pulumi.${name}.yaml`);
    const count = shardCountOf(file);
    if (count === 1) {
        const s = await openStack(name, configFile, projectDir);
        const raw = await readStackConfig(s);
        const fleet = parseFleetConfig(raw);
        return { fleet, raw, stacks: [{ s, devices: fleet.devices.map((d) => d.name) }] };
    }
    if (!fs.existsSync(file)) throw new Error(`stack ${name}: no stack file ${file}`);
    // The configuration is read through the fleet's own stack, which setting
    // its secrets created; the shard stacks are created only once it passed.
    const own = await openStack(name, file, projectDir).catch(() => undefined);
    const reader = own ?? (await openStack(shardStackName(name, 1, count), file, projectDir, { create: true }));
    const raw = await readStackConfig(reader);
    const fleet = parseFleetConfig(raw);
    await refuseOtherDeployers(reader, name, count);
    // Selecting (or creating) a stack is a CLI call of about a second: a few at once.
    const stacks = await mapBounded(planShards(name, fleet.devices.map((d) => d.name), count), 4, async (shard) => ({
        s: shard.stack === reader.name ? reader : await openStack(shard.stack, file, projectDir, { create: true }),
        devices: shard.devices,
    }));
    return { fleet, raw, stacks };
}

/**
 * Stacks that still deploy devices of this fleet outside its current shards:
 * the fleet's own stack from before it was split, or shard stacks of another
 * count. Running the current shards beside them would put a second set of
 * containers with the same names on the devices; moving their state is a
 * deliberate step (`pulumi state move`), not something to guess.
 */
async function refuseOtherDeployers(s: FleetStack, fleet: string, count: number): Promise<void> {
    const all = await s.workspace.listStacks();
    const others = all.filter((x) => {
        if ((x.resourceCount ?? 0) === 0) return false;
        if (x.name === fleet) return true;
        const shard = parseShardStack(x.name);
        return shard !== undefined && shard.fleet === fleet && shard.count !== count;
    });
    if (others.length === 0) return;
    const list = others.map((x) => `${x.name} (${x.resourceCount} resources)`).join(", ");
    throw new Error(
        `edge-fleet:shards is ${count}, but ${list} still deploy devices of ${fleet}; ` +
            `move their state into the shard stacks first (pulumi state move), or set edge-fleet:shards back to what they were made with`,
    );
}

/** Updates or previews of different shard stacks run at once: each holds a docker provider per device of its shard. */
export const STACKS_AT_ONCE = 2;

/** The devices grouped by the stack that deploys them, in the order of `stacks`; stacks without any are left out. */
export function groupByStack(stacks: readonly StackOfFleet[], devices: readonly string[]): [FleetStack, string[]][] {
    const wanted = new Set(devices);
    return stacks.map((x) => [x.s, x.devices.filter((d) => wanted.has(d))] as [FleetStack, string[]]).filter(([, ds]) => ds.length > 0);
}

/** Runs `op` on every item, at most `limit` at once, results in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, op: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length; i = next++) results[i] = await op(items[i]!, i);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}
