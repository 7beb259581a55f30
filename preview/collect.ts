/**
 * The I/O half of `edge-fleet preview`: a preview of the stack through the
 * Automation API, refreshing from the devices first, with every engine event
 * kept. The events carry what the renderer needs: each step's old and new
 * inputs, the detailed diff, the keys that force a replacement, and the
 * policy packs' findings. Secret values arrive from the engine as "[secret]".
 */
import { EngineEvent } from "@pulumi/pulumi/automation";
import { parseFleetConfig } from "../config/parse";
import { openStack, readStackConfig, withStaleLockRecovery } from "../rollout/pulumiStack";

export interface CollectedPreview {
    readonly stack: string;
    readonly events: readonly EngineEvent[];
    /** The engine's error when the preview failed (a mandatory policy violation fails it too). */
    readonly error?: string;
}

/**
 * Throws ConfigError (the CLI's exit 2) for an invalid configuration before
 * any device is contacted, as the rollout does. `policyPacks` are directories
 * of policy packs the engine runs during the preview.
 */
export async function collectPreview(stackName: string, configFile: string | undefined, workDir: string, policyPacks: readonly string[] = []): Promise<CollectedPreview> {
    const s = await openStack(stackName, configFile, workDir);
    parseFleetConfig(await readStackConfig(s));
    const events: EngineEvent[] = [];
    try {
        await withStaleLockRecovery(s, () =>
            s.stack.preview({
                refresh: true,
                ...(policyPacks.length > 0 ? { policyPacks: [...policyPacks] } : {}),
                onEvent: (e) => events.push(e),
                ...(s.configFile ? { configFile: s.configFile } : {}),
            }),
        );
        return { stack: stackName, events };
    } catch (e) {
        return { stack: stackName, events, error: String((e as Error)?.message ?? e) };
    }
}
