/**
 * What the rules need to know about the stack they judge: its name, hardware
 * class and registry (from the stack's `edge-fleet:` settings, as the program
 * reads them) and the policy's own settings, kept in the same stack file under
 * the `edge-fleet-policy:` namespace, which the program ignores. Pure: built
 * from the configuration the engine hands the pack (see engineConfig.ts).
 */
import { z } from "zod";
import { HARDWARE_CLASSES, HardwareClass, STACK_DEFAULTS } from "../config/defaults";
import { PROJECT } from "../config/keys";

export const POLICY_NAMESPACE = "edge-fleet-policy";
export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "disabled"] as const;
export type Level = (typeof ENFORCEMENT_LEVELS)[number];

/** The stacks that deploy real fleets, where an image should be pinned by digest. */
export const PRODUCTION_STACKS: readonly string[] = ["edge-jetson", "edge-x86"];
/** Host ports a container may publish when the stack does not say otherwise: tv_api, grafana. */
export const DEFAULT_ALLOWED_PORTS: readonly number[] = [8000, 3000];

export interface PolicySettings {
    readonly stack?: string;
    /** Undefined when the stack gives none (the program then refuses the stack itself). */
    readonly hardwareClass?: HardwareClass;
    /** `<server>/<namespace>/`: every image reference must start with it. */
    readonly registryPrefix?: string;
    readonly allowedPorts: readonly number[];
    /** Device name to the memory the device has, for the memory budget. */
    readonly deviceMemoryMiB: Readonly<Record<string, number>>;
    /** Rule name to the level the stack chose for it. */
    readonly enforcement: Readonly<Record<string, Level>>;
}

export const EMPTY_SETTINGS: PolicySettings = { allowedPorts: DEFAULT_ALLOWED_PORTS, deviceMemoryMiB: {}, enforcement: {} };

const port = z.number().int().min(1).max(65535);
const policySchema = z
    .object({
        allowedPorts: z.array(port).optional(),
        deviceMemoryMiB: z.record(z.string(), z.number().int().positive()).optional(),
        enforcement: z.record(z.string(), z.enum(ENFORCEMENT_LEVELS)).optional(),
    })
    .strict();

/** Pulumi hands config over as text; structured values as JSON. */
function decode(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * Settings from the stack's configuration (full key to text, as the engine
 * sends it). A malformed policy setting throws: the engine then refuses to
 * run rather than judge the stack by defaults it did not ask for.
 */
export function settingsFromConfig(stack: string | undefined, config: ReadonlyMap<string, string>, ruleNames: readonly string[]): PolicySettings {
    const own: Record<string, unknown> = {};
    for (const [key, text] of config) {
        if (key.startsWith(`${POLICY_NAMESPACE}:`)) own[key.slice(POLICY_NAMESPACE.length + 1)] = decode(text);
    }
    const parsed = policySchema.safeParse(own);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${[POLICY_NAMESPACE, ...i.path].join(".").replace(".", ":")}: ${i.message}`);
        throw new Error(`invalid policy settings in stack ${stack ?? "?"}: ${problems.join("; ")}`);
    }
    const unknownRules = Object.keys(parsed.data.enforcement ?? {}).filter((r) => !ruleNames.includes(r));
    if (unknownRules.length > 0) {
        throw new Error(`${POLICY_NAMESPACE}:enforcement names unknown rules ${unknownRules.join(", ")}; rules: ${ruleNames.join(", ")}`);
    }

    const hw = config.get(`${PROJECT}:hardwareClass`);
    const registry = decode(config.get(`${PROJECT}:registry`) ?? "{}") as { server?: unknown; namespace?: unknown };
    const server = typeof registry.server === "string" ? registry.server : STACK_DEFAULTS.registryServer;
    const namespace = typeof registry.namespace === "string" ? registry.namespace : STACK_DEFAULTS.registryNamespace;
    return {
        ...(stack ? { stack } : {}),
        ...((HARDWARE_CLASSES as readonly string[]).includes(hw ?? "") ? { hardwareClass: hw as HardwareClass } : {}),
        registryPrefix: `${server}/${namespace}/`,
        allowedPorts: parsed.data.allowedPorts ?? DEFAULT_ALLOWED_PORTS,
        deviceMemoryMiB: parsed.data.deviceMemoryMiB ?? {},
        enforcement: parsed.data.enforcement ?? {},
    };
}

/** Where the rules read the settings of the stack being judged. */
export interface RuleContext {
    settings(): PolicySettings;
}

export function fixedContext(settings: PolicySettings): RuleContext {
    return { settings: () => settings };
}
