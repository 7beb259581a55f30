/**
 * Rollouts over several devices (`edge-fleet rollout`), with the seed's
 * healthchecks: the wall time of a ten-device rollout against a rollout of
 * the same change to one device, with the default strategy (canary, then
 * waves doubling), with the canary followed by every other device in one
 * wave, and with every device in one wave; tv_api's downtime on each device
 * during a release change and during the rollback of a release that never
 * turns healthy, and the time from a SIGKILLed rollout to a converged stack.
 * The soak period is shortened to 10 s; everything else is the stack's
 * default.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { SimDevice, simDevice } from "../lib/device";
import { DowntimeProbe, probeDowntime } from "../lib/downtime";
import { Command, capture, check, startLogged } from "../lib/run";
import { BenchContext, Figure, RoundResult, Scenario, ScenarioRun } from "../lib/scenario";
import { sleep } from "../lib/timing";

const STACK = "bench-rollout";
const DEVICES = (process.env.EDGE_FLEET_BENCH_ROLLOUT_DEVICES ?? "sim-edge-10,sim-edge-11,sim-edge-12,sim-edge-13,sim-edge-25,sim-edge-26,sim-edge-27,sim-edge-28,sim-edge-29,sim-edge-30").split(",");

export const rolloutScenario: Scenario = {
    id: "rollout",
    title: "Rollouts over several devices (canary, waves, health gate, rollback)",
    columns: ["seconds"],
    create: (ctx) => new RolloutBench(ctx),
};

class RolloutBench implements ScenarioRun {
    private devices: SimDevice[] = [];
    private readonly configFile: string;

    constructor(private readonly ctx: BenchContext) {
        this.configFile = path.join(ctx.stackDir, `Pulumi.${STACK}.yaml`);
    }

    subtitle(): string {
        return `devices ${DEVICES.join(", ")}; seed healthchecks, soak 10 s`;
    }

    tools(): Promise<Readonly<Record<string, string>>> {
        return Promise.resolve({});
    }

    async prepare(): Promise<void> {
        for (const d of DEVICES) this.devices.push(await simDevice(this.ctx.root, d));
        // One deploy key for the stack, as on a real fleet: the first device's.
        for (const d of this.devices.slice(1)) {
            const file = path.join(path.dirname(d.dockerHost.replace(/^unix:\/\//, "")), "edge", "authorized_keys");
            const key = fs.readFileSync(`${this.devices[0]!.privateKeyPath}.pub`, "utf8").trim();
            if (!fs.readFileSync(file, "utf8").includes(key)) fs.appendFileSync(file, `\n${key}\n`);
        }
        await this.cleanup();
    }

    private async writeConfig(devices: readonly SimDevice[], tvApiTag: string, strategy: Readonly<Record<string, unknown>> = {}): Promise<void> {
        const doc = YAML.parse(fs.readFileSync(path.join(this.ctx.root, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
        const reg = this.devices[0]!.registry;
        const previous = fs.existsSync(this.configFile) ? (YAML.parse(fs.readFileSync(this.configFile, "utf8")) as { encryptionsalt?: string }) : {};
        const config = {
            ...doc.config,
            "edge-fleet:registry": { ...(doc.config["edge-fleet:registry"] as object), server: reg.server, username: reg.username },
            "edge-fleet:release": { tag: "1.0.0", services: { tv_api: { tag: tvApiTag } } },
            "edge-fleet:devices": devices.map((d) => ({ name: d.name, host: d.host, port: d.port, user: d.user, hostPublicKey: d.hostPublicKey, videoStorageRoot: `/var/lib/edge-fleet-sim/${d.name}/bench` })),
            "edge-fleet:rollout": { soakSeconds: 10, ...strategy },
        };
        fs.writeFileSync(this.configFile, YAML.stringify({ ...(previous.encryptionsalt ? { encryptionsalt: previous.encryptionsalt } : {}), config }, { lineWidth: 0 }), { mode: 0o600 });
        const scratch = fs.mkdtempSync(path.join(this.ctx.benchDir, "ws-"));
        fs.copyFileSync(path.join(this.ctx.root, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
        await check({ cmd: "pulumi", args: ["stack", "select", "--create", STACK, "--non-interactive", "--cwd", scratch] });
        fs.rmSync(scratch, { recursive: true, force: true });
        await check({ ...this.pulumi("config", "set", "--secret", "sshPrivateKey"), stdinFile: this.devices[0]!.privateKeyPath });
        await check({ ...this.pulumi("config", "set", "--secret", "registryToken"), stdinFile: reg.passwordFile });
    }

    private pulumi(...args: string[]): Command {
        return { cmd: "pulumi", args: ["--cwd", this.ctx.root, ...args, "--stack", STACK, "--config-file", this.configFile, "--non-interactive"] };
    }

    private rolloutCommand(): Command {
        return { cmd: "node", args: [path.join(this.ctx.root, "bin", "edge-fleet.cjs"), "rollout", "--stack", STACK, "--config-file", this.configFile, "--progress", "plain"] };
    }

    /** Seconds a command takes; its output goes to the round's log. */
    private async time(name: string, c: Command, dir: string, okCodes = [0]): Promise<number> {
        const t0 = performance.now();
        const code = await startLogged(c, path.join(dir, `${name}.log`)).exited;
        if (!okCodes.includes(code)) throw new Error(`${name}: exit ${code}; log: ${path.join(dir, `${name}.log`)}`);
        const s = Math.round((performance.now() - t0) / 100) / 10;
        this.ctx.log(`${name}: ${s}s`);
        return s;
    }

    private probes(devices: readonly SimDevice[]): DowntimeProbe[] {
        return devices.map((d) => probeDowntime(`http://${d.host}:8000/status`));
    }

    async round(_n: number, dir: string): Promise<RoundResult> {
        const one = this.devices.slice(0, 1);
        // One device: a plain `pulumi up` of the change, then the same change as a rollout.
        await this.writeConfig(one, "1.0.0");
        await this.time("single-initial", this.pulumi("up", "--yes", "--suppress-progress"), dir);
        await this.writeConfig(one, "1.1.0");
        const singleUp = await this.time("single-up-1.1.0", this.pulumi("up", "--yes", "--suppress-progress"), dir);
        await this.writeConfig(one, "1.0.0");
        const singleRollout = await this.time("single-rollout-1.0.0", this.rolloutCommand(), dir);

        // Four devices.
        await this.writeConfig(this.devices, "1.0.0");
        // --parallel as the README advises for a plain `up` of several devices.
        await this.time("fleet-initial", this.pulumi("up", "--yes", "--suppress-progress", "--parallel", String(16 * this.devices.length)), dir);
        await this.writeConfig(this.devices, "1.1.0");
        let probes = this.probes(this.devices);
        const fleetRollout = await this.time("fleet-rollout-1.1.0", this.rolloutCommand(), dir);
        const changeDowntime = await Promise.all(probes.map((p) => p.stop()));
        // The canary alone, then every other device in one wave, all at once.
        const rest = this.devices.length - 1;
        await this.writeConfig(this.devices, "1.0.0", { canary: 1, waveSize: Math.max(rest, 1), parallelDevices: Math.max(rest, 1) });
        const twoStage = await this.time("fleet-rollout-two-stage-1.0.0", this.rolloutCommand(), dir);
        // Every device in one wave, no canary: what the fleet's size alone costs.
        await this.writeConfig(this.devices, "1.1.0", { canary: 0, waveSize: this.devices.length, parallelDevices: this.devices.length });
        const oneWave = await this.time("fleet-rollout-one-wave-1.1.0", this.rolloutCommand(), dir);

        await this.writeConfig(this.devices, "1.1.0-unhealthy");
        probes = this.probes(this.devices.slice(0, 1));
        const rollback = await this.time("fleet-rollout-unhealthy", this.rolloutCommand(), dir, [1]);
        const rollbackDowntime = await Promise.all(probes.map((p) => p.stop()));

        // SIGKILL the rollout (and the Pulumi CLI under it) once the canary's tv_api is gone, then run it again.
        await this.writeConfig(this.devices, "1.0.0");
        const started = startLogged(this.rolloutCommand(), path.join(dir, "fleet-rollout-killed.log"));
        const canary = this.devices[0]!;
        const before = await this.tvApiId(canary);
        while ((await this.tvApiId(canary)) === before) await sleep(200, this.ctx.signal);
        process.kill(-started.pid, "SIGKILL");
        const killedAt = performance.now();
        await started.exited;
        await this.time("fleet-rollout-after-kill", this.rolloutCommand(), dir);
        const recovery = Math.round((performance.now() - killedAt) / 100) / 10;

        const max = (xs: number[]) => Math.max(...xs);
        const figures: Figure[] = [
            { id: "single-up", label: "one device: pulumi up of the change (tv_api 1.0.0 -> 1.1.0)", values: { seconds: singleUp } },
            { id: "single-rollout", label: "one device: rollout of the change", values: { seconds: singleRollout } },
            { id: "fleet-rollout", label: `${this.devices.length} devices: rollout of the change (canary, waves doubling)`, values: { seconds: fleetRollout } },
            { id: "fleet-rollout-two-stage", label: `${this.devices.length} devices: rollout, canary then the other ${rest} at once`, values: { seconds: twoStage } },
            { id: "fleet-rollout-one-wave", label: `${this.devices.length} devices: rollout, all in one wave`, values: { seconds: oneWave } },
            { id: "downtime-change", label: "tv_api downtime per device, release change (longest)", values: { seconds: max(changeDowntime) } },
            { id: "rollback", label: "rollout of a release that never turns healthy, with rollback", values: { seconds: rollback } },
            { id: "downtime-rollback", label: "tv_api downtime on the canary, bad release and rollback", values: { seconds: max(rollbackDowntime) } },
            { id: "sigkill-recovery", label: "SIGKILL mid-replace -> next run converged", values: { seconds: recovery } },
        ];
        return {
            figures,
            notes: [
                `${this.devices.length}-device rollout / one-device rollout of the same change: ${(fleetRollout / singleRollout).toFixed(2)} ` +
                    `(canary, waves doubling), ${(twoStage / singleRollout).toFixed(2)} (canary, then the rest at once), ${(oneWave / singleRollout).toFixed(2)} (all in one wave)`,
                `tv_api downtime per device during the release change: ${changeDowntime.map((s) => `${s}s`).join(", ")}`,
            ],
            details: { changeDowntime, rollbackDowntime },
        };
    }

    private async tvApiId(d: SimDevice): Promise<string> {
        const r = await capture({ cmd: "docker", args: ["--host", d.dockerHost, "ps", "-aq", "--no-trunc", "--filter", "name=^tv_api$"] });
        return r.stdout.trim();
    }

    async cleanup(): Promise<void> {
        if (!fs.existsSync(this.configFile)) return;
        await capture({ cmd: "pulumi", args: ["--cwd", this.ctx.root, "cancel", "--yes", "--stack", STACK, "--non-interactive"] });
        await capture(this.pulumi("destroy", "--yes", "--suppress-progress"));
    }
}
