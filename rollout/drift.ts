/**
 * `edge-fleet drift`: what differs between the devices and what the stack
 * declares, found by a preview that refreshes from the devices first. Changes
 * nothing: a preview's refresh is not saved.
 */
import { EngineEvent } from "@pulumi/pulumi/automation";
import { DeviceShell, SshMaterial } from "./deviceShell";
import { batchScope } from "./deviceOps";
import { leftOutEnv } from "../config/read";
import { checkpoint, withEnv } from "./pulumiStack";
import { STACKS_AT_ONCE, groupByStack, mapBounded, openFleetStacks } from "./shardStacks";
import { deviceOfUrn, resourceName } from "./state";

export interface DriftItem {
    readonly device: string;
    /** The resource, without its device prefix: `tv_api`, `tv_api-image`, `vv_backend`. */
    readonly resource: string;
    readonly op: string;
    /** Field: recorded/actual value → declared value. */
    readonly fields: readonly { readonly field: string; readonly from?: unknown; readonly to?: unknown }[];
}

export interface DriftReport {
    readonly stack: string;
    readonly drift: readonly DriftItem[];
    readonly unreachable: readonly { readonly device: string; readonly reason: string }[];
}

const QUIET = new Set(["same", "read", "refresh"]);

export async function findDrift(stackName: string, configFile: string | undefined, workDir: string): Promise<DriftReport> {
    const { fleet, raw, stacks } = await openFleetStacks(stackName, configFile, workDir);
    const names = fleet.devices.map((d) => d.name);
    const material = new SshMaterial(String(raw.values.sshPrivateKey));
    try {
        const unreachable: { device: string; reason: string }[] = [];
        const reachable: string[] = [];
        await Promise.all(
            fleet.devices.map(async (d) => {
                const down = await new DeviceShell(d, material).probe();
                if (down) unreachable.push({ device: d.name, reason: `${down.reason}: ${down.detail}` });
                else reachable.push(d.name);
            }),
        );
        const drift: DriftItem[] = [];
        const onEvent = (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            if (!m || QUIET.has(m.op)) return;
            const device = deviceOfUrn(m.urn, names);
            if (!device) return;
            const name = resourceName(m.urn);
            const keys = Object.keys(m.detailedDiff ?? {}).length > 0 ? Object.keys(m.detailedDiff ?? {}) : (m.diffs ?? []);
            const fields = keys.sort().map((field) => {
                const top = field.split(/[.[]/)[0]!;
                const from: unknown = m.old?.outputs?.[top] ?? m.old?.inputs?.[top];
                const to: unknown = m.new?.inputs?.[top];
                return { field, from, to };
            });
            drift.push({ device, resource: name === device ? name : name.slice(device.length + 1), op: m.op, fields });
        };
        // A fleet split into shard stacks: each stack previews its own reachable devices.
        await mapBounded(groupByStack(stacks, reachable), STACKS_AT_ONCE, async ([s, devices]) => {
            const { targets, leaveOut } = batchScope(await checkpoint(s), s.name, devices, names);
            await withEnv(s, leftOutEnv(leaveOut), () =>
                s.stack.preview({
                    refresh: true,
                    // The deploy keys exist only while the program runs (ssh/keyFiles.ts).
                    runProgram: true,
                    targetDependents: true,
                    target: targets,
                    onEvent,
                    policyPacks: s.policyPacks,
                    ...(s.configFile ? { configFile: s.configFile } : {}),
                }),
            );
        });
        drift.sort((a, b) => a.device.localeCompare(b.device) || a.resource.localeCompare(b.resource));
        unreachable.sort((a, b) => a.device.localeCompare(b.device));
        return { stack: stackName, drift, unreachable };
    } finally {
        material.dispose();
    }
}
