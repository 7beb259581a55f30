/**
 * How long deploys to one device take with this project, compared with
 * `docker compose up -d --wait` deploying the same containers to the same
 * simulated device. Four figures per tool, the first three each until every
 * container is healthy:
 *   cold       first deploy to a device with no containers and no images
 *   no-op      the same deploy again, nothing to change (and, Pulumi only,
 *              again with the preview `pulumi up --yes` runs first)
 *   change     one service changed (tv_api release 1.0.0 -> 1.1.0)
 *   teardown   pulumi destroy / compose down
 * plus the peak memory of the deploying processes during the cold deploy, and
 * a comparison of what the two cold deploys made (docker inspect).
 *
 * Fairness: the compose file is generated from the same plan the Pulumi
 * program deploys (scripts/bench/compose-file.ts), both tools reach the
 * device's Docker over SSH with the same pinned keys, and both start cold:
 * before each cold run the device's containers, networks, images and the
 * storage root are removed, so both pull every image. Health is polled the
 * same way for both, through the device's socket.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeComposeFile } from "../compose-file";
import { Compose } from "../lib/compose";
import { SimDevice, diffDeployments, removeStackObjects, resetDevice, saveDeployment, simDevice, waitHealthy } from "../lib/device";
import { DockerApi } from "../lib/docker-api";
import { describeMemory, summarize } from "../lib/proc-sampler";
import { BenchStack } from "../lib/pulumi-stack";
import { Command, check } from "../lib/run";
import { BenchContext, RoundResult, Scenario, ScenarioRun } from "../lib/scenario";
import { median, timed } from "../lib/timing";

const HEALTH_TIMEOUT_SECONDS = 900;
/**
 * A no-op takes about two seconds and one run of it varies by ±0.3 s with
 * what else the machine does, so each tool's no-op is run this many times in
 * a row and the median is its figure (the two tools cannot alternate: they
 * deploy the same containers on the same device, one after the other).
 */
const NOOP_RUNS = 5;
const CHANGE = { service: "tv_api", from: "1.0.0", to: "1.1.0" };

/** Where and how one variant of the comparison runs. */
interface Variant {
    /** The stack, and compose's project; one per variant, so two never meet on a device. */
    readonly stack: string;
    readonly project: string;
    readonly device: string;
    readonly engine?: "current";
    /** Stack settings beyond the local stack's. */
    readonly settings?: Readonly<Record<string, unknown>>;
    readonly about: string;
}

/** A comparison with compose, run as `variant` says; both tools' figures side by side, with their ratio. */
function comparison(id: string, title: string, variant: (ctx: BenchContext) => Variant): Scenario {
    return { id, title, columns: ["pulumi", "compose"], ratio: ["pulumi", "compose"], create: (ctx) => new DeployVsCompose(ctx, variant(ctx)) };
}

export const deployVsCompose = comparison("deploy-vs-compose", "Deploys to one device: this project against docker compose v2", (ctx) => ({
    stack: "bench",
    project: "edge-fleet-bench",
    device: ctx.device,
    about:
        "Cold deploys are dominated by the seed's healthcheck intervals along the dependency chain " +
        "(playlist_manager: first check after 120 s), the same for both tools.",
}));

/**
 * The same comparison on a device running a current Docker Engine (sim
 * device.sh --engine current, EDGE_FLEET_BENCH_ENGINE_DEVICE, default
 * sim-edge-09), with `healthcheckStartIntervalSeconds: 1`: the seed's
 * intervals in steady state, a check every second while a container starts.
 * The compose file carries the same start_interval.
 */
export const deployVsComposeCurrentEngine = comparison(
    "current-engine",
    "Deploys to one device on a current Docker Engine, healthchecks every second while starting",
    () => ({
        stack: "bench-engine",
        project: "edge-fleet-bench-engine",
        device: process.env.EDGE_FLEET_BENCH_ENGINE_DEVICE ?? "sim-edge-09",
        engine: "current",
        settings: { "edge-fleet:healthcheckStartIntervalSeconds": 1 },
        about: "Every healthcheck runs each second during its start period (start_interval), the steady-state intervals are the seed's.",
    }),
);

class DeployVsCompose implements ScenarioRun {
    private readonly stack: BenchStack;
    private readonly composeFile: string;
    private readonly storageRoot: string;
    private readonly teardownLog: string;
    private device?: SimDevice;
    private api?: DockerApi;
    private compose?: Compose;
    private services = 0;
    private engineVersion = "?";

    constructor(
        private readonly ctx: BenchContext,
        private readonly v: Variant,
    ) {
        this.stack = new BenchStack(ctx.root, v.stack, ctx.stackDir);
        this.composeFile = path.join(ctx.benchDir, `${v.project}.docker-compose.yml`);
        this.storageRoot = `/var/lib/edge-fleet-sim/${this.v.device}/${v.stack}`;
        this.teardownLog = path.join(ctx.benchDir, `${v.stack}.teardown.log`);
    }

    subtitle(): string {
        return (
            `On ${this.v.device}${this.services ? ` (${this.services} services)` : ""}, Docker Engine ${this.engineVersion}; ` +
            `compose over ${this.device?.sshUrl}, as the Pulumi provider, from a compose file generated from the same plan. ${this.v.about}`
        );
    }

    async tools(): Promise<Record<string, string>> {
        return { "docker compose": this.compose ? await this.compose.version() : "-" };
    }

    async prepare(): Promise<void> {
        // Built on the first run (about a minute and a half), cached after.
        const built = await check({ cmd: "bash", args: [path.join(this.ctx.root, "scripts", "toolchain.sh"), "compose"] }, true);
        const composeBin = built.trim().split("\n").pop()!;
        this.device = await simDevice(this.ctx.root, this.v.device, this.v.engine);
        this.api = DockerApi.fromHost(this.device.dockerHost);
        const v = await this.api.version();
        this.engineVersion = `${v.Version} (API ${v.ApiVersion})`;
        this.compose = await Compose.create(this.device, composeBin);
        await this.teardown();
    }

    /** Removes both tools' deployments, also an interrupted or failed run's. */
    private async teardown(): Promise<void> {
        await this.compose?.downProject(this.v.project, this.teardownLog);
        await this.stack.destroy(this.teardownLog);
        if (this.api) await removeStackObjects(this.api, this.v.stack);
    }

    private generateComposeFile(): number {
        return writeComposeFile(this.stack.configFile, this.v.stack, this.v.device, this.v.project, this.composeFile);
    }

    /** Times a deploy until the stack's containers are all healthy (and tv_api runs `tag`, if given). */
    private deploy(name: string, c: Command, dir: string, opts: { tag?: string; sampleMemory?: boolean } = {}) {
        const api = this.api!;
        const wait = { stack: this.v.stack, count: this.services, timeoutSeconds: HEALTH_TIMEOUT_SECONDS, signal: this.ctx.signal };
        return timed(name, c, {
            logDir: dir,
            log: (m) => this.ctx.log(m),
            sampleMemory: opts.sampleMemory,
            until: () => waitHealthy(api, { ...wait, image: opts.tag ? { container: CHANGE.service, tag: opts.tag } : undefined }),
        });
    }

    /** NOOP_RUNS no-op deploys in a row, each timed until all are healthy. */
    private async noops(name: string, c: Command, dir: string): Promise<number[]> {
        const seconds: number[] = [];
        for (let i = 1; i <= NOOP_RUNS; i++) seconds.push((await this.deploy(`${name}-${i}`, c, dir)).seconds);
        return seconds;
    }

    async round(n: number, dir: string): Promise<RoundResult> {
        const { ctx, stack, api, compose, device } = this;
        if (!api || !compose || !device) throw new Error("round before prepare");
        const plain = { logDir: dir, log: (m: string) => ctx.log(m) };

        // Pulumi: a new stack each round, as on a new device.
        ctx.log(`round ${n}: pulumi`);
        await stack.remove();
        await stack.writeConfig(device, this.storageRoot, this.v.settings);
        this.services = this.generateComposeFile();
        await resetDevice(api, this.v.stack, this.storageRoot);
        const pCold = await this.deploy("pulumi-cold", stack.up(), dir, { sampleMemory: true });
        const pulumiMade = await saveDeployment(api, this.v.stack, path.join(dir, "pulumi.containers.json"));
        const pNoops = await this.noops("pulumi-noop", stack.up(), dir);
        const pNoopPreview = await this.deploy("pulumi-noop-with-preview", stack.up({ withPreview: true }), dir);
        await stack.setServiceTag(CHANGE.service, CHANGE.to);
        const pChange = await this.deploy("pulumi-change", stack.up(), dir, { tag: CHANGE.to });
        const pDown = await timed("pulumi-destroy", stack.destroyCommand(), plain);

        // Compose: the same plan, as a compose file.
        ctx.log(`round ${n}: docker compose`);
        await stack.setServiceTag(CHANGE.service, undefined);
        const t0 = performance.now();
        this.generateComposeFile();
        const generateMs = Math.round(performance.now() - t0);
        fs.copyFileSync(this.composeFile, path.join(dir, "docker-compose.cold.yml"));
        await resetDevice(api, this.v.stack, this.storageRoot);
        const up = compose.up(this.composeFile, HEALTH_TIMEOUT_SECONDS);
        const cCold = await this.deploy("compose-cold", up, dir, { sampleMemory: true });
        const composeMade = await saveDeployment(api, this.v.stack, path.join(dir, "compose.containers.json"));
        const cNoops = await this.noops("compose-noop", up, dir);
        await stack.setServiceTag(CHANGE.service, CHANGE.to);
        this.generateComposeFile();
        const cChange = await this.deploy("compose-change", up, dir, { tag: CHANGE.to });
        const cDown = await timed("compose-down", compose.command("--file", this.composeFile, "down"), plain);
        await stack.setServiceTag(CHANGE.service, undefined);

        const differences = diffDeployments(pulumiMade, composeMade);
        const diffFile = path.join(dir, "containers.diff.json");
        if (differences.length > 0) fs.writeFileSync(diffFile, JSON.stringify(differences, null, 2) + "\n");
        const memory = { pulumi: summarize(pCold.peaks ?? [], "pulumi"), compose: summarize(cCold.peaks ?? [], "docker-compose") };
        return {
            figures: [
                { id: "cold", label: "cold deploy -> all healthy", values: { pulumi: pCold.seconds, compose: cCold.seconds } },
                {
                    id: "noop",
                    label: `no-op deploy (pulumi up --skip-preview), median of ${NOOP_RUNS}`,
                    values: { pulumi: median(pNoops), compose: median(cNoops) },
                },
                // Compose has nothing like it: it never shows a plan.
                { id: "noop-preview", label: "no-op deploy with its preview (pulumi up --yes)", values: { pulumi: pNoopPreview.seconds, compose: null } },
                {
                    id: "change",
                    label: `${CHANGE.service} ${CHANGE.from} -> ${CHANGE.to} -> healthy`,
                    values: { pulumi: pChange.seconds, compose: cChange.seconds },
                },
                { id: "teardown", label: "teardown (destroy / down)", values: { pulumi: pDown.seconds, compose: cDown.seconds } },
            ],
            notes: [
                `peak memory in the cold deploy (sampled each second from /proc), pulumi: ${describeMemory(memory.pulumi)}`,
                `peak memory in the cold deploy (sampled each second from /proc), compose: ${describeMemory(memory.compose)}`,
                `no-op runs, in order (s), pulumi: ${pNoops.join(", ")}; compose: ${cNoops.join(", ")}`,
                `compose file generation (not counted): ${generateMs} ms`,
                differences.length === 0
                    ? "containers deployed by both: identical in image, command, env, labels, limits, restart, healthcheck, " +
                      "mounts, networks and aliases, ports, logging, security options, stop timeout, runtime"
                    : `WARNING: the two tools deployed different containers (${differences.length} differences); see ${diffFile}`,
            ],
            details: {
                services: this.services,
                memory,
                noopSeconds: { pulumi: pNoops, compose: cNoops },
                composeFileMs: generateMs,
                containersIdentical: differences.length === 0,
                differences,
            },
        };
    }

    async cleanup(): Promise<void> {
        this.ctx.log("cleaning up: compose down, pulumi destroy, stack rm");
        await this.teardown();
        await this.stack.remove();
        fs.rmSync(this.storageRoot, { recursive: true, force: true });
        this.compose?.dispose();
    }
}
