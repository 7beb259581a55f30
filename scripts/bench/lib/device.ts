/**
 * A simulated device as a bench sees it: its description from sim/device.sh,
 * waiting until a stack's containers are healthy, making it as new, and what
 * a deploy made on it in terms two tools can be compared in.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { ContainerInspect, DockerApi } from "./docker-api";
import { check } from "./run";
import { sleep } from "./timing";

/** What `sim/device.sh env NAME` prints (sim/README.md). */
export interface SimDevice {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly hostPublicKey: string;
    readonly privateKeyPath: string;
    readonly dockerHost: string;
    readonly sshUrl: string;
    readonly stateDir: string;
    readonly registry: { readonly server: string; readonly username: string; readonly passwordFile: string; readonly namespace: string };
}

/**
 * The device's description; `up` first, which only checks a healthy device
 * (about half a second) and makes or repairs one that is not.
 */
export async function simDevice(root: string, name: string, engine?: "debian" | "current"): Promise<SimDevice> {
    const args = [path.join(root, "sim", "device.sh"), "up", name, ...(engine ? ["--engine", engine] : [])];
    return JSON.parse(await check({ cmd: "bash", args })) as SimDevice;
}

export interface HealthWait {
    readonly stack: string;
    readonly count: number;
    /** Also wait until this container runs an image with this tag. */
    readonly image?: { readonly container: string; readonly tag: string };
    readonly timeoutSeconds: number;
    readonly signal?: AbortSignal;
}

/** Polls once a second until the stack's `count` containers are all healthy. */
export async function waitHealthy(api: DockerApi, w: HealthWait): Promise<void> {
    const deadline = Date.now() + w.timeoutSeconds * 1000;
    for (;;) {
        const cs = await api.containers(`edge-fleet.stack=${w.stack}`).catch(() => []);
        const lines = cs.map((c) => `${c.Names[0]?.replace(/^\//, "")} ${c.Labels["edge-fleet.image"] ?? "?"} ${c.Status}`);
        const healthy = cs.filter((c) => c.Status.includes("(healthy)")).length;
        const imageOk = !w.image || cs.some((c) => c.Names.includes(`/${w.image!.container}`) && (c.Labels["edge-fleet.image"] ?? "").endsWith(`:${w.image!.tag}`));
        if (cs.length === w.count && healthy === w.count && imageOk) return;
        if (Date.now() >= deadline) throw new Error(`not healthy after ${w.timeoutSeconds}s:\n${lines.join("\n")}`);
        await sleep(1000, w.signal);
    }
}

/**
 * Removes the stack's containers and networks, by label, whoever made them: a
 * deploy that failed between Docker's create and the state's record leaves
 * containers that `pulumi destroy` does not know of.
 */
export async function removeStackObjects(api: DockerApi, stack: string): Promise<void> {
    const label = `edge-fleet.stack=${stack}`;
    for (const c of await api.containers(label)) await api.removeContainer(c.Id);
    for (const n of await api.networks(label)) await api.removeNetwork(n.Id);
}

/**
 * A device as a new one would be: no containers or networks of the stack, no
 * images, no storage, so a deploy pulls everything. Refuses a device that runs
 * containers of anything else: the bench would remove their images.
 */
export async function resetDevice(api: DockerApi, stack: string, storageRoot: string): Promise<void> {
    await removeStackObjects(api, stack);
    const others = await api.containers();
    if (others.length > 0) {
        throw new Error(`the device still runs containers that are not the bench's: ${others.map((c) => c.Names.join(",")).join(" ")}`);
    }
    await api.pruneImages();
    fs.rmSync(storageRoot, { recursive: true, force: true });
}

/**
 * What a deploy made, per container, in the terms both tools declare: image,
 * command, environment, labels (without compose's own), limits, restart
 * policy, healthcheck, mounts, networks and aliases, ports, logging, security
 * options, stop timeout, runtime. Aliases are compared as sets: compose
 * repeats the service name among them and Docker adds each container's short
 * ID; both mean nothing here.
 */
export function projectContainer(c: ContainerInspect): Record<string, unknown> {
    const shortId = c.Id.slice(0, 12);
    const labels = Object.entries(c.Config.Labels ?? {}).filter(([k]) => !k.startsWith("com.docker.compose."));
    return {
        image: c.Config.Image,
        cmd: c.Config.Cmd,
        env: [...(c.Config.Env ?? [])].sort(),
        labels: Object.fromEntries(labels),
        healthcheck: c.Config.Healthcheck ?? null,
        stopTimeout: c.Config.StopTimeout ?? null,
        memory: c.HostConfig.Memory,
        memorySwap: c.HostConfig.MemorySwap,
        nanoCpus: c.HostConfig.NanoCpus,
        restart: c.HostConfig.RestartPolicy,
        log: c.HostConfig.LogConfig,
        securityOpt: c.HostConfig.SecurityOpt,
        privileged: c.HostConfig.Privileged,
        runtime: c.HostConfig.Runtime,
        ports: c.HostConfig.PortBindings ?? {},
        mounts: c.Mounts.map(({ Type, Source, Destination, RW }) => ({ Type, Source, Destination, RW })).sort((a, b) => a.Destination.localeCompare(b.Destination)),
        networks: Object.fromEntries(
            Object.entries(c.NetworkSettings.Networks).map(([net, v]) => [net, [...new Set((v.Aliases ?? []).filter((a) => a !== shortId))].sort()]),
        ),
    };
}

export type Deployment = Record<string, Record<string, unknown>>;

/** The stack's containers by name, projected; written to FILE with sorted keys. */
export async function saveDeployment(api: DockerApi, stack: string, file: string): Promise<Deployment> {
    const deployment: Deployment = {};
    for (const c of await api.containers(`edge-fleet.stack=${stack}`)) {
        const full = await api.inspect(c.Id);
        deployment[full.Name.replace(/^\//, "")] = projectContainer(full);
    }
    fs.writeFileSync(file, JSON.stringify(sortKeys(deployment), null, 2) + "\n");
    return deployment;
}

export interface Difference {
    readonly container: string;
    readonly field: string;
    readonly a: unknown;
    readonly b: unknown;
}

/** Every container and field where two deployments differ; empty when they match. */
export function diffDeployments(a: Deployment, b: Deployment): Difference[] {
    const out: Difference[] = [];
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        const ca = a[name], cb = b[name];
        if (!ca || !cb) {
            out.push({ container: name, field: "(container)", a: ca ? "present" : "absent", b: cb ? "present" : "absent" });
            continue;
        }
        for (const field of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
            if (!isDeepStrictEqual(sortKeys(ca[field]), sortKeys(cb[field]))) out.push({ container: name, field, a: ca[field], b: cb[field] });
        }
    }
    return out;
}

/** A copy with object keys sorted at every level, for stable files and comparisons. */
export function sortKeys<T>(v: T): T {
    if (Array.isArray(v)) return v.map(sortKeys) as T;
    if (v !== null && typeof v === "object") {
        return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) as T;
    }
    return v;
}
