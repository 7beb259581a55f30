/**
 * The Pulumi stacks that deploy one fleet stack: the stack itself, or, when
 * its file sets `edge-fleet:shards`, its shard stacks (plan/shards.ts), which
 * are created here on first use. Every shard stack runs with the fleet's own
 * stack file (`--config-file`), so the fleet is declared, and its secrets
 * encrypted, in one file.
 */
import { StackSummary } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { FleetConfig, RawConfig } from "../config/model";
import { parseFleetConfig } from "../config/parse";
import { Shard, parseShardStack, planShards, shardStackName } from "../plan/shards";
import { FleetStack, PROJECT, openStack, readStackConfig, removeAtExit } from "./pulumiStack";

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
    const existing = await reader.workspace.listStacks();
    refuseOtherDeployers(existing, name, count);
    const held = new Map(existing.map((x) => [x.name, x.resourceCount ?? 0]));
    // A shard without devices is run only while its stack still holds some (devices removed since).
    const shards = planShards(name, fleet.devices.map((d) => d.name), count).filter((x) => x.devices.length > 0 || (held.get(x.stack) ?? 0) > 0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `edge-fleet-shards-${process.pid}-`));
    removeAtExit(dir);
    const fleetDoc = YAML.parse(fs.readFileSync(file, "utf8")) as StackFileDoc;
    // Selecting (or creating) a stack is a CLI call of about a second: a few at once.
    const stacks = await mapBounded(shards, 4, async (shard) => ({
        s: await openStack(shard.stack, shard.devices.length > 0 ? writeShardConfig(dir, fleetDoc, shard) : file, projectDir, { create: true }),
        devices: shard.devices,
    }));
    return { fleet, raw, stacks };
}

/**
 * The stack file of one shard: the fleet's, with only the shard's devices.
 * Pulumi hands a program its whole configuration in one environment
 * variable, which Linux caps at 128 KiB: a list of about 800 devices no longer
 * fits, whichever shard reads it. Everything else, the encryption salt and
 * the secrets (still encrypted) included, is the fleet file's, so the shard
 * decrypts them with the fleet's passphrase. The copy lives in a private
 * directory for the length of the run.
 */
type StackFileDoc = { config: Record<string, unknown> } & Record<string, unknown>;

function writeShardConfig(dir: string, fleetDoc: StackFileDoc, shard: Shard): string {
    const mine = new Set(shard.devices);
    const devices = fleetDoc.config[`${PROJECT}:devices`] as { name?: unknown }[];
    const doc = { ...fleetDoc, config: { ...fleetDoc.config, [`${PROJECT}:devices`]: devices.filter((d) => typeof d?.name === "string" && mine.has(d.name)) } };
    const out = path.join(dir, `Pulumi.${shard.stack}.yaml`);
    fs.writeFileSync(out, YAML.stringify(doc, { lineWidth: 0 }), { mode: 0o600 });
    return out;
}

/**
 * Stacks that still deploy devices of this fleet outside its current shards:
 * the fleet's own stack from before it was split, or shard stacks of another
 * count. Running the current shards beside them would put a second set of
 * containers with the same names on the devices; moving their state is a
 * deliberate step (`pulumi state move`), not something to guess.
 */
function refuseOtherDeployers(all: readonly StackSummary[], fleet: string, count: number): void {
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

/**
 * Runs `op` on every item, at most `limit` at once, results in input order.
 * After a failure no new item starts, and the ones in flight finish before
 * the first error is thrown: an update must not go on unobserved after the
 * command has given up (a stack locked by another deployment, say).
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, op: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    const errors: unknown[] = [];
    let next = 0;
    const worker = async () => {
        for (let i = next++; i < items.length && errors.length === 0; i = next++) {
            try {
                results[i] = await op(items[i]!, i);
            } catch (e) {
                errors.push(e);
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    if (errors.length > 0) throw errors[0];
    return results;
}
