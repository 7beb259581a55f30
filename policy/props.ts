/**
 * The docker provider's resources as a policy sees them: their inputs by the
 * Pulumi property names of @pulumi/docker, plain values. Only the fields the
 * rules read are typed; anything may be missing in a resource that breaks a rule.
 */
import { UnknownValueError } from "@pulumi/policy";
import { LABEL_PREFIX } from "../config/defaults";

export const CONTAINER = "docker:index/container:Container";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const DOCKER_PROVIDER = "pulumi:providers:docker";

export interface ContainerProps {
    name?: string;
    image?: string;
    privileged?: boolean;
    securityOpts?: string[];
    memory?: number;
    memorySwap?: number;
    cpus?: string;
    restart?: string;
    maxRetryCount?: number;
    healthcheck?: { tests?: string[] };
    logDriver?: string;
    logOpts?: Record<string, string>;
    labels?: { label?: string; value?: string }[];
    volumes?: { hostPath?: string; containerPath?: string }[];
    mounts?: { source?: string; target?: string; type?: string }[];
    ports?: { internal?: number; external?: number }[];
    networkMode?: string;
}

export interface ProviderProps {
    host?: string;
    /** A provider's structured inputs reach the engine as JSON text. */
    sshOpts?: string[] | string;
}

/** A provider input that is a list, whether the engine sent it as a list or as JSON text. */
export function listInput(value: unknown): string[] | undefined {
    let v = value;
    if (typeof v === "string") {
        try {
            v = JSON.parse(v);
        } catch {
            return undefined;
        }
    }
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? v : undefined;
}

/**
 * Reads a value that may be unknown during a preview (an output of a resource
 * not created yet). Unknown reads as undefined: the caller decides whether the
 * rule can still be judged, rather than the whole policy being skipped.
 */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return undefined;
        throw e;
    }
}

export function label(c: ContainerProps, name: string): string | undefined {
    return known(() => c.labels?.find((l) => l.label === name)?.value);
}

/** The service a container runs: its label, else its name (the project names containers after services). */
export function serviceOf(c: ContainerProps): string {
    return label(c, `${LABEL_PREFIX}.service`) ?? known(() => c.name) ?? "?";
}

/** How a violation names the container: `tv_api on sim-edge-01`. */
export function describe(c: ContainerProps): string {
    const device = label(c, `${LABEL_PREFIX}.device`);
    return device ? `${serviceOf(c)} on ${device}` : serviceOf(c);
}

/** Host paths a container mounts, by bind volume or by mount. */
export function hostPaths(c: ContainerProps): string[] {
    const fromVolumes = (known(() => c.volumes) ?? []).map((v) => known(() => v.hostPath));
    const fromMounts = (known(() => c.mounts) ?? []).filter((m) => known(() => m.type) !== "volume").map((m) => known(() => m.source));
    return [...fromVolumes, ...fromMounts].filter((p): p is string => typeof p === "string" && p.length > 0);
}
