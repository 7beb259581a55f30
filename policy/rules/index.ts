/**
 * Every rule of the pack and the level it has unless the stack says otherwise
 * (edge-fleet-policy:enforcement). Mandatory rules stop a preview or an update;
 * advisory ones are printed as warnings.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Level, PRODUCTION_STACKS, PolicySettings, RuleContext } from "../settings";
import { imageDigests, imageRegistry } from "./images";
import { deviceMemoryBudget, limits } from "./limits";
import { pinnedHostKey, publishedPorts } from "./network";
import { healthchecks, logRotation, restartPolicy } from "./runtime";
import { dockerSocket, noNewPrivileges, noPrivileged } from "./security";

export type Rule = ResourceValidationPolicy | StackValidationPolicy;

export function rules(ctx: RuleContext): Rule[] {
    return [
        noPrivileged,
        noNewPrivileges,
        dockerSocket,
        limits(ctx),
        healthchecks,
        restartPolicy,
        logRotation,
        imageRegistry(ctx),
        publishedPorts(ctx),
        pinnedHostKey,
        imageDigests,
        deviceMemoryBudget(ctx),
    ];
}

export const RULE_NAMES: readonly string[] = rules({ settings: () => ({ allowedPorts: [], deviceMemoryMiB: {}, enforcement: {} }) }).map((r) => r.name);

/** The level a rule has in a stack: the stack's choice, else its default there. */
export function levelOf(rule: string, settings: PolicySettings): Level {
    const chosen = settings.enforcement[rule];
    if (chosen) return chosen;
    switch (rule) {
        case "images-pinned-by-digest":
            // Test and local stacks deploy tags on purpose; a fleet should not.
            return settings.stack !== undefined && PRODUCTION_STACKS.includes(settings.stack) ? "advisory" : "disabled";
        case "device-memory-budget":
            return "advisory";
        default:
            return "mandatory";
    }
}

/**
 * Sets each rule's level for the stack being judged. @pulumi/policy reads a
 * rule's `enforcementLevel` on every call, and reports it to the engine when
 * asked for the pack's rules (after the stack is known); a level given to the
 * engine with --policy-pack-config still wins over it.
 */
export function applyLevels(all: readonly Rule[], settings: PolicySettings): void {
    for (const r of all) r.enforcementLevel = levelOf(r.name, settings);
}
