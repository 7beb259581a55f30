/**
 * A fleet too large for one Pulumi stack is split into shard stacks (pure).
 *
 * Every device has a docker provider process of its own, and Pulumi starts
 * every provider of a stack for a preview or an update, even a targeted one
 * (README, "Fleets of hundreds of devices"). A stack of `shards: N` is
 * therefore deployed as N stacks, `<stack>.shard-07-of-40`, each declaring
 * only its devices, and `edge-fleet` runs a bounded number of them at a time.
 *
 * A device's shard is a hash of its name modulo N: adding or removing a
 * device never moves another one to a different stack (which would delete its
 * containers in one stack and create them in another). Changing N moves most
 * devices, so the count is part of the stack name: stacks of an earlier count
 * are found by name and refused while they still hold resources.
 */
import { createHash } from "node:crypto";

const SHARD_STACK = /^(?<fleet>.+)\.shard-(?<index>\d+)-of-(?<count>\d+)$/;

export interface ShardStack {
    /** The fleet's own stack name: the one its stack file is named after. */
    readonly fleet: string;
    /** 1-based. */
    readonly index: number;
    readonly count: number;
}

export interface Shard extends ShardStack {
    readonly stack: string;
    readonly devices: readonly string[];
}

/** Index and count are zero-padded to the same width, so the stacks sort in order. */
export function shardStackName(fleet: string, index: number, count: number): string {
    const width = Math.max(2, String(count).length);
    const pad = (n: number) => String(n).padStart(width, "0");
    return `${fleet}.shard-${pad(index)}-of-${pad(count)}`;
}

export function parseShardStack(stack: string): ShardStack | undefined {
    const m = SHARD_STACK.exec(stack);
    if (!m?.groups) return undefined;
    const index = Number(m.groups.index);
    const count = Number(m.groups.count);
    if (!(count >= 1 && index >= 1 && index <= count)) return undefined;
    return { fleet: m.groups.fleet!, index, count };
}

/** 1-based shard of a device: the first 32 bits of the SHA-256 of its name, modulo count. */
export function shardOf(device: string, count: number): number {
    return (createHash("sha256").update(device).digest().readUInt32BE(0) % count) + 1;
}

/** Every shard of the fleet, in order, empty ones included; devices keep their declared order. */
export function planShards(fleet: string, devices: readonly string[], count: number): Shard[] {
    const shards = Array.from({ length: count }, (_, i) => ({ fleet, index: i + 1, count, stack: shardStackName(fleet, i + 1, count), devices: [] as string[] }));
    for (const d of devices) shards[shardOf(d, count) - 1]!.devices.push(d);
    return shards;
}

/** Why a stack may not deploy the fleet it was given; the program throws it before declaring anything. */
export class ShardError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ShardError";
    }
}

/**
 * The devices the program declares in `stack`: all of them when the fleet is
 * not split; when it is, only the shard's, and only in a shard stack of the
 * current count. Anything else would declare devices that another stack
 * already deploys.
 */
export function devicesOfStack(stack: string, devices: readonly string[], shards: number): readonly string[] {
    const shard = parseShardStack(stack);
    if (shards === 1 && !shard) return devices;
    if (!shard) {
        throw new ShardError(
            `edge-fleet:shards is ${shards}: the devices of stack ${stack} are deployed by its ${shards} shard stacks ` +
                `(${shardStackName(stack, 1, shards)} ... ${shardStackName(stack, shards, shards)}), not by ${stack} itself; ` +
                `run \`edge-fleet preview|rollout --stack ${stack}\`, or one shard with ` +
                `\`pulumi preview --stack ${shardStackName(stack, 1, shards)} --config-file Pulumi.${stack}.yaml\``,
        );
    }
    if (shard.count !== shards) {
        throw new ShardError(
            `stack ${stack} is shard ${shard.index} of ${shard.count}, but edge-fleet:shards is ${shards}: ` +
                `a new count moves most devices to other stacks; move their state first (pulumi state move) ` +
                `or set edge-fleet:shards back to ${shard.count}`,
        );
    }
    return devices.filter((d) => shardOf(d, shards) === shard.index);
}
