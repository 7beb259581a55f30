/**
 * The rollout strategy of a stack (`edge-fleet:rollout`): how a release moves
 * through the fleet, when it is judged healthy and what happens when it is
 * not. Pure; validated with the rest of the stack configuration so that a bad
 * strategy is refused before any device is contacted.
 */
import { z } from "zod";
import { ROLLOUT_DEFAULTS } from "./defaults";

export const FAILURE_ACTIONS = ["rollback", "pause"] as const;
export type FailureAction = (typeof FAILURE_ACTIONS)[number];

/** `3` (devices) or `"25%"` (of the stack's devices). */
const PERCENT = /^(\d{1,3}(\.\d+)?)%$/;

export const rolloutSchema = z
    .object({
        canary: z
            .union([z.number().int().min(0, "must be 0 or more devices"), z.array(z.string())], {
                error: "must be a number of devices (0 for none) or a list of device names",
            })
            .optional(),
        waveSize: z.number().int().min(1, "must be at least 1 device").optional(),
        waveGrowthFactor: z.number().min(1, "must be at least 1 (1 keeps every wave the size of the first)").max(100, "must be at most 100").optional(),
        parallelDevices: z.number().int().min(1, "must be at least 1").max(1000, "must be at most 1000").optional(),
        healthTimeoutSeconds: z.number().int().min(1, "must be at least 1 second").max(7200, "must be at most 7200 seconds").optional(),
        soakSeconds: z.number().int().min(0, "must not be negative").max(86400, "must be at most 86400 seconds").optional(),
        maxFailed: z
            .union([z.number().int().min(0, "must be 0 or more devices"), z.string().regex(PERCENT, "must be a percentage such as \"25%\"")], {
                error: "must be a number of devices or a percentage such as \"25%\"",
            })
            .optional(),
        abortMinDevices: z.number().int().min(1, "must be at least 1").optional(),
        unreachableIsFailure: z.boolean({ error: "must be true or false" }).optional(),
        onFailure: z.enum(FAILURE_ACTIONS, { error: `must be one of ${FAILURE_ACTIONS.join(", ")}` }).optional(),
    })
    .strict();

export type RawRollout = z.infer<typeof rolloutSchema>;

/** A failure threshold: absolute, or a share of the stack's devices. */
export type FailureThreshold = { readonly devices: number } | { readonly percent: number };

export interface RolloutStrategy {
    /** How many devices form the canary wave, or exactly which ones. */
    readonly canary: number | readonly string[];
    /** Fixed wave size; when absent, waves grow by `waveGrowthFactor`. */
    readonly waveSize?: number;
    readonly waveGrowthFactor: number;
    readonly parallelDevices: number;
    /** When absent, derived per device from its containers' healthchecks. */
    readonly healthTimeoutSeconds?: number;
    readonly soakSeconds: number;
    readonly maxFailed: FailureThreshold;
    readonly abortMinDevices: number;
    readonly unreachableIsFailure: boolean;
    readonly onFailure: FailureAction;
}

type Add = (p: readonly PropertyKey[], message: string, value?: unknown, showValue?: boolean) => void;

/**
 * The checks that need several settings or the device list. `raw` holds the
 * settings that passed the schema; `deviceNames` the stack's devices in order,
 * undefined for a device whose name is itself invalid, and no list at all when
 * the device list could not be read.
 */
export function checkRolloutStrategy(raw: RawRollout, deviceNames: readonly (string | undefined)[] | undefined, add: Add): void {
    const p = ["rollout"];
    if (raw.waveSize !== undefined && raw.waveGrowthFactor !== undefined) {
        add([...p, "waveGrowthFactor"], "set either waveSize (fixed waves) or waveGrowthFactor (growing waves), not both", raw.waveGrowthFactor);
    }
    const known = [...new Set(deviceNames?.filter((n): n is string => n !== undefined))];
    if (Array.isArray(raw.canary)) {
        const seen = new Set<string>();
        // A canary name can only be judged against a device list with every name readable.
        const judge = deviceNames !== undefined && deviceNames.length > 0 && deviceNames.every((n) => n !== undefined);
        raw.canary.forEach((name, i) => {
            if (seen.has(name)) add([...p, "canary", i], "named twice", name);
            else if (judge && !known.includes(name)) add([...p, "canary", i], `not a device of this stack; devices: ${known.join(", ")}`, name);
            seen.add(name);
        });
    } else if (typeof raw.canary === "number" && deviceNames !== undefined && deviceNames.length > 0 && raw.canary > deviceNames.length) {
        add([...p, "canary"], `must be at most the number of devices in the stack (${deviceNames.length})`, raw.canary);
    }
    if (typeof raw.maxFailed === "string" && percentOf(raw.maxFailed) > 100) {
        add([...p, "maxFailed"], "must be a percentage from 0% to 100%", raw.maxFailed);
    }
}

/** The strategy with its defaults; `raw` has passed the schema and checkRolloutStrategy. */
export function resolveRolloutStrategy(raw: RawRollout | undefined): RolloutStrategy {
    const r = raw ?? {};
    let maxFailed: FailureThreshold = { devices: ROLLOUT_DEFAULTS.maxFailed };
    if (typeof r.maxFailed === "number") maxFailed = { devices: r.maxFailed };
    else if (typeof r.maxFailed === "string") maxFailed = { percent: percentOf(r.maxFailed) };
    return {
        canary: r.canary ?? ROLLOUT_DEFAULTS.canary,
        ...(r.waveSize !== undefined ? { waveSize: r.waveSize } : {}),
        waveGrowthFactor: r.waveGrowthFactor ?? ROLLOUT_DEFAULTS.waveGrowthFactor,
        parallelDevices: r.parallelDevices ?? ROLLOUT_DEFAULTS.parallelDevices,
        ...(r.healthTimeoutSeconds !== undefined ? { healthTimeoutSeconds: r.healthTimeoutSeconds } : {}),
        soakSeconds: r.soakSeconds ?? ROLLOUT_DEFAULTS.soakSeconds,
        maxFailed,
        abortMinDevices: r.abortMinDevices ?? ROLLOUT_DEFAULTS.abortMinDevices,
        unreachableIsFailure: r.unreachableIsFailure ?? ROLLOUT_DEFAULTS.unreachableIsFailure,
        onFailure: r.onFailure ?? ROLLOUT_DEFAULTS.onFailure,
    };
}

function percentOf(text: string): number {
    return Number(PERCENT.exec(text)?.[1]);
}
