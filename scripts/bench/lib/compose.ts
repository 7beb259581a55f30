/**
 * docker compose v2 reaching a device's Docker over SSH with the device's
 * pinned keys, as the Pulumi provider reaches it.
 *
 * Compose gets a docker client config of its own (the compose plugin and the
 * registry login) in a private temporary directory rather than ~/.docker;
 * the Pulumi provider is given its registry login by the program and sees
 * nothing else.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REGISTRY_CONFIG_ENV } from "../compose-file";
import { SimDevice } from "./device";
import { Command, capture, check } from "./run";

export class Compose {
    private constructor(
        /** Private directory: the docker config, and the cwd of commands run by project name. */
        readonly workDir: string,
        private readonly env: Record<string, string>,
    ) {}

    /** The compose binary is built by scripts/toolchain.sh (never put on PATH). */
    static async create(device: SimDevice, composeBin: string): Promise<Compose> {
        const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-compose-"));
        fs.chmodSync(workDir, 0o700);
        const dockerConfig = path.join(workDir, "docker");
        fs.mkdirSync(path.join(dockerConfig, "cli-plugins"), { recursive: true });
        fs.symlinkSync(composeBin, path.join(dockerConfig, "cli-plugins", "docker-compose"));
        const login = await capture({
            cmd: "docker",
            args: ["--config", dockerConfig, "--host", device.dockerHost, "login", "--username", device.registry.username, "--password-stdin", device.registry.server],
            stdinFile: device.registry.passwordFile,
        });
        if (login.code !== 0) throw new Error(`docker login to ${device.registry.server} failed: ${login.stderr.trim()}`);
        // What watchtower gets as its config.json, as the Pulumi program uploads it.
        const auths = (JSON.parse(fs.readFileSync(path.join(dockerConfig, "config.json"), "utf8")) as { auths: unknown }).auths;
        return new Compose(workDir, {
            // The device's ssh wrapper (pinned host key, deploy key): the docker
            // CLI has no option for ssh flags, it runs the first `ssh` on PATH.
            PATH: `${path.join(device.stateDir, "bin")}:${process.env.PATH ?? ""}`,
            DOCKER_HOST: device.sshUrl,
            DOCKER_CONFIG: dockerConfig,
            [REGISTRY_CONFIG_ENV]: JSON.stringify({ auths }),
        });
    }

    command(...args: string[]): Command {
        return { cmd: "docker", args: ["compose", "--progress", "plain", "--ansi", "never", ...args], env: this.env, cwd: this.workDir };
    }

    /** `up --detach --wait`: returns once every service is healthy, as the Pulumi provider's `wait`. */
    up(file: string, waitSeconds: number): Command {
        return this.command("--file", file, "up", "--detach", "--wait", "--wait-timeout", String(waitSeconds));
    }

    /** Removes a project by name, so it also works without its compose file (an interrupted run's). */
    async downProject(project: string, logFile: string): Promise<void> {
        const r = await capture(this.command("--project-name", project, "down", "--remove-orphans"));
        fs.appendFileSync(logFile, r.stdout + r.stderr);
    }

    async version(): Promise<string> {
        return (await check(this.command("version", "--short"))).trim();
    }

    dispose(): void {
        fs.rmSync(this.workDir, { recursive: true, force: true });
    }
}
