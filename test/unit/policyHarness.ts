/**
 * Calls a rule the way @pulumi/policy does: resource rules with the
 * arguments of one resource, stack rules with every resource, collecting
 * the violations reported instead of sending them to an engine.
 */
import { ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PolicySettings } from "../../policy/settings";

export const SETTINGS: PolicySettings = {
    stack: "unit",
    hardwareClass: "cpu",
    registryPrefix: "10.77.0.1:5000/vv-video-ai/",
    allowedPorts: [8000, 3000],
    deviceMemoryMiB: {},
    enforcement: {},
};

export interface Res {
    readonly type: string;
    readonly props: Record<string, any>;
    readonly name?: string;
}

const notApplicable = (reason?: string): never => {
    throw new Error(`not applicable: ${reason}`);
};

function resourceArgs(r: Res): ResourceValidationArgs {
    const name = r.name ?? "r";
    return {
        type: r.type,
        props: r.props,
        urn: `urn:pulumi:unit::edge-fleet::${r.type}::${name}`,
        name,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
    };
}

export async function violations(policy: ResourceValidationPolicy, r: Res): Promise<string[]> {
    const out: string[] = [];
    const v = policy.validateResource;
    const validations = v === undefined ? [] : Array.isArray(v) ? v : [v];
    for (const v of validations) await v(resourceArgs(r), (m) => out.push(m));
    return out;
}

export async function stackViolations(policy: StackValidationPolicy, resources: readonly Res[]): Promise<string[]> {
    const out: string[] = [];
    const args: StackValidationArgs = {
        resources: resources.map((r) => ({ ...resourceArgs(r), dependencies: [], propertyDependencies: {} })),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
    };
    await policy.validateStack(args, (m) => out.push(m));
    return out;
}

/** A container as the program declares it for tv_api on one device; tests change one field. */
export function container(overrides: Record<string, unknown> = {}, service = "tv_api", device = "dev-1"): Res {
    return {
        type: "docker:index/container:Container",
        name: `${device}-${service}`,
        props: {
            name: service,
            image: `10.77.0.1:5000/vv-video-ai/${service}:1.0.0`,
            privileged: false,
            securityOpts: ["no-new-privileges:true"],
            memory: 512,
            memorySwap: 512,
            cpus: "1",
            restart: "always",
            maxRetryCount: 0,
            healthcheck: { tests: ["CMD", "curl", "-f", "http://localhost:8000/status"] },
            logDriver: "json-file",
            logOpts: { "max-size": "10m", "max-file": "3" },
            labels: [
                { label: "edge-fleet.device", value: device },
                { label: "edge-fleet.service", value: service },
            ],
            volumes: [{ hostPath: "/srv/vv-video/playlists", containerPath: "/app/playlists", readOnly: true }],
            ports: service === "tv_api" ? [{ internal: 8000, external: 8000, ip: "0.0.0.0", protocol: "tcp" }] : [],
            ...overrides,
        },
    };
}
