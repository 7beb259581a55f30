/**
 * The I/O half of `edge-fleet preview`: a preview of every stack of the fleet
 * (the stack itself, or its shard stacks) through the Automation API,
 * refreshing from the devices first, with every engine event kept. The events
 * carry what the renderer needs: each step's old and new inputs, the detailed
 * diff, the keys that force a replacement, and the policy packs' findings.
 * Secret values arrive from the engine as "[secret]".
 */
import { EngineEvent } from "@pulumi/pulumi/automation";
import { withStaleLockRecovery } from "../rollout/pulumiStack";
import { mapBounded, openFleetStacks } from "../rollout/shardStacks";

export interface CollectedPreview {
    readonly stack: string;
    readonly events: readonly EngineEvent[];
    /** The engine's error when the preview failed (a mandatory policy violation fails it too). */
    readonly error?: string;
}

export interface CollectOptions {
    /** Directories of policy packs the engine runs during each preview. */
    readonly policyPacks?: readonly string[];
    /** Shard stacks previewed at once: each holds a docker provider process per device. */
    readonly stacksAtOnce?: number;
}

/** Shard stacks previewed at once by default: two keep both cores of a small machine busy. */
export const DEFAULT_STACKS_AT_ONCE = 2;

/**
 * Throws ConfigError (the CLI's exit 2) for an invalid configuration before
 * any device is contacted, as the rollout does. `done` turns each stack's
 * events into what the caller keeps, so a large fleet's events need not all
 * be held at once; results come back in stack order.
 */
export async function collectPreviews<R>(stackName: string, configFile: string | undefined, workDir: string, o: CollectOptions, done: (c: CollectedPreview) => R): Promise<R[]> {
    const { stacks } = await openFleetStacks(stackName, configFile, workDir);
    const policyPacks = o.policyPacks ?? [];
    return mapBounded(stacks, o.stacksAtOnce ?? DEFAULT_STACKS_AT_ONCE, async ({ s }) => {
        const events: EngineEvent[] = [];
        try {
            await withStaleLockRecovery(s, () =>
                s.stack.preview({
                    refresh: true,
                    ...(policyPacks.length > 0 ? { policyPacks: [...policyPacks] } : {}),
                    onEvent: (e) => events.push(e),
                    // The report is built from the events; the CLI's own display is not shown.
                    suppressProgress: true,
                    suppressOutputs: true,
                    ...(s.configFile ? { configFile: s.configFile } : {}),
                }),
            );
            return done({ stack: s.name, events });
        } catch (e) {
            return done({ stack: s.name, events, error: String((e as Error)?.message ?? e) });
        }
    });
}
