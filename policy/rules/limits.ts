/**
 * Resources: every container is bounded in memory, swap and CPU within what
 * its stack's hardware class allows, and (advisory) a device's containers
 * together fit in the memory the device has.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { HARDWARE_PROFILES, LABEL_PREFIX } from "../../config/defaults";
import { CONTAINER, ContainerProps, describe, known, label } from "../props";
import { RuleContext } from "../settings";

export function limits(ctx: RuleContext): ResourceValidationPolicy {
    return {
        name: "memory-and-cpu-limits",
        description: "Every container has a memory limit, a swap limit equal to it and a CPU limit, within its hardware class's bounds.",
        validateResource: (args, report) => {
            if (args.type !== CONTAINER) return;
            const c = args.props as ContainerProps;
            const who = describe(c);
            const memory = known(() => c.memory);
            const swap = known(() => c.memorySwap);
            const cpus = Number(known(() => c.cpus));
            const hw = ctx.settings().hardwareClass;
            const profile = hw ? HARDWARE_PROFILES[hw] : undefined;
            if (!(typeof memory === "number" && memory > 0)) report(`${who} has no memory limit`);
            else if (profile && memory > profile.maxMemoryMiB) report(`${who}'s memory limit ${memory} MiB exceeds the ${hw} class's ${profile.maxMemoryMiB} MiB`);
            // Docker's default lets a container swap as much again as its memory.
            if (typeof memory === "number" && memory > 0 && swap !== memory) report(`${who}'s swap limit is ${swap ?? "unset"}, not its memory limit ${memory} MiB`);
            if (!(Number.isFinite(cpus) && cpus > 0)) report(`${who} has no CPU limit`);
            else if (profile && cpus > profile.maxCpus) report(`${who}'s CPU limit ${cpus} exceeds the ${hw} class's ${profile.maxCpus}`);
        },
    };
}

export function deviceMemoryBudget(ctx: RuleContext): StackValidationPolicy {
    return {
        name: "device-memory-budget",
        description: "The memory limits of a device's containers add up to no more than the device's memory (edge-fleet-policy:deviceMemoryMiB).",
        validateStack: (args, report) => {
            const budgets = ctx.settings().deviceMemoryMiB;
            const used = new Map<string, number>();
            for (const r of args.resources) {
                if (r.type !== CONTAINER) continue;
                const c = r.props as ContainerProps;
                const device = label(c, `${LABEL_PREFIX}.device`);
                const memory = known(() => c.memory);
                if (device && typeof memory === "number") used.set(device, (used.get(device) ?? 0) + memory);
            }
            for (const [device, total] of used) {
                const budget = budgets[device];
                if (budget !== undefined && total > budget) {
                    report(`the containers of ${device} may use ${total} MiB together, more than its ${budget} MiB`);
                }
            }
        },
    };
}
