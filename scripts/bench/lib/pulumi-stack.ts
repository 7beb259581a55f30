/**
 * A stack of this project for a bench: its own name and its own config file
 * (under the generated stacks directory, never in the repository), made from
 * the repository's Pulumi.local.yaml and pointed at one simulated device.
 * Secrets go through stdin, never argv, as for the local stack.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { SimDevice } from "./device";
import { Command, capture, check } from "./run";
import { sshBaseDir } from "../../../ssh/keyFiles";

export class BenchStack {
    readonly configFile: string;

    constructor(
        private readonly root: string,
        readonly name: string,
        stackDir: string,
    ) {
        this.configFile = path.join(stackDir, `Pulumi.${name}.yaml`);
    }

    /** A pulumi command on this stack and its config file. */
    command(...args: string[]): Command {
        return { cmd: "pulumi", args: ["--cwd", this.root, ...args, "--stack", this.name, "--config-file", this.configFile, "--non-interactive"] };
    }

    /**
     * `pulumi up --yes --skip-preview`: what automation runs, and like
     * `compose up` it applies without showing a plan first. withPreview is
     * what a person types (`pulumi up --yes`): the program runs twice.
     */
    up(o: { withPreview?: boolean } = {}): Command {
        return this.command("up", "--yes", "--suppress-progress", ...(o.withPreview ? [] : ["--skip-preview"]));
    }

    destroyCommand(): Command {
        return this.command("destroy", "--yes", "--suppress-progress");
    }

    async exists(): Promise<boolean> {
        const r = await capture({ cmd: "pulumi", args: ["--cwd", this.root, "stack", "ls", "--json"] });
        if (r.code !== 0) return false;
        return (JSON.parse(r.stdout) as { name: string }[]).some((s) => s.name === this.name);
    }

    /**
     * Writes the config file: the values of Pulumi.local.yaml, deploying to
     * one device with its storage under storageRoot; creates the stack if
     * needed and sets its two secrets from the simulation's files. `extra`
     * adds or replaces stack settings (full keys, e.g. "edge-fleet:...").
     */
    async writeConfig(device: SimDevice, storageRoot: string, extra: Readonly<Record<string, unknown>> = {}): Promise<void> {
        const doc = YAML.parse(fs.readFileSync(path.join(this.root, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
        const config: Record<string, unknown> = { ...doc.config, ...extra };
        config["edge-fleet:devices"] = [
            { name: device.name, host: device.host, port: device.port, user: device.user, hostPublicKey: device.hostPublicKey, videoStorageRoot: storageRoot },
        ];
        config["edge-fleet:registry"] = {
            ...(config["edge-fleet:registry"] as Record<string, unknown>),
            server: device.registry.server,
            username: device.registry.username,
        };
        await this.writeValues(config, { sshPrivateKey: device.privateKeyPath, registryToken: device.registry.passwordFile });
    }

    /**
     * Writes the config file with these plain values, creates the stack if
     * needed and sets its two secrets from files (through stdin).
     */
    async writeValues(config: Readonly<Record<string, unknown>>, secretFiles: { readonly sshPrivateKey: string; readonly registryToken: string }): Promise<void> {
        fs.rmSync(this.configFile, { force: true });
        fs.writeFileSync(this.configFile, YAML.stringify({ config }, { lineWidth: 0 }), { mode: 0o600 });
        await this.ensureExists();
        await check({ ...this.command("config", "set", "--secret", "sshPrivateKey"), stdinFile: secretFiles.sshPrivateKey });
        await check({ ...this.command("config", "set", "--secret", "registryToken"), stdinFile: secretFiles.registryToken });
    }

    /**
     * `pulumi stack init` writes a Pulumi.<stack>.yaml next to Pulumi.yaml;
     * doing it in a scratch copy of the project keeps the repository's stack
     * files untouched (the stack carries its own config file).
     */
    private async ensureExists(): Promise<void> {
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-stack-"));
        try {
            fs.copyFileSync(path.join(this.root, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
            await check({ cmd: "pulumi", args: ["stack", "select", "--create", this.name, "--non-interactive", "--cwd", scratch] });
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    }

    /** Pins one service to a release tag, or (tag undefined) back to the stack's release. */
    async setServiceTag(service: string, tag: string | undefined): Promise<void> {
        if (tag) await check(this.command("config", "set", "--path", `release.services.${service}.tag`, tag));
        else await capture(this.command("config", "rm", "--path", "release.services"));
    }

    /** Destroys what the stack deployed; works without the config file (an interrupted run's). */
    async destroy(logFile: string): Promise<void> {
        if (!(await this.exists())) return;
        const c = fs.existsSync(this.configFile)
            ? this.destroyCommand()
            : { cmd: "pulumi", args: ["--cwd", this.root, "destroy", "--stack", this.name, "--non-interactive", "--yes", "--suppress-progress"] };
        const r = await capture(c);
        fs.appendFileSync(logFile, r.stdout + r.stderr);
    }

    /** Removes the stack from the backend, its config file and its ssh material. */
    async remove(): Promise<void> {
        if (await this.exists()) {
            await capture({ cmd: "pulumi", args: ["--cwd", this.root, "stack", "rm", this.name, "--yes", "--force", "--preserve-config", "--non-interactive"] });
        }
        fs.rmSync(this.configFile, { force: true });
        // Normally gone already: the program's key files last only as long as a run.
        fs.rmSync(path.join(sshBaseDir(), this.name), { recursive: true, force: true });
    }
}
