/**
 * Plain SSH to a device, the same way the docker provider reaches it: the
 * fleet's deploy key, the device's pinned host key and strict checking, no
 * ssh config file of the operator's. Used to probe reachability, read what
 * the daemon runs for the health gate, and remove a container an interrupted
 * run left behind. The key lives in a private directory for the life of the
 * process only.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface DeviceAddress {
    readonly name: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly hostPublicKey: string;
}

export type Unreachable = "connection refused" | "timed out" | "host key mismatch" | "authentication refused" | "unreachable";

export interface ShellResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** The deploy key written once for all devices, removed when the process ends, however it ends. */
export class SshMaterial {
    readonly dir: string;
    readonly keyFile: string;

    constructor(privateKey: string) {
        removeStaleMaterial();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
        fs.chmodSync(this.dir, 0o700);
        this.keyFile = path.join(this.dir, "id_deploy");
        fs.writeFileSync(this.keyFile, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
        const cleanup = () => this.dispose();
        process.once("exit", cleanup);
    }

    knownHostsFor(d: DeviceAddress): string {
        const file = path.join(this.dir, `known_hosts-${d.name}`);
        const host = d.port === 22 ? d.host : `[${d.host}]:${d.port}`;
        if (!fs.existsSync(file)) fs.writeFileSync(file, `${host} ${d.hostPublicKey}\n`, { mode: 0o600 });
        return file;
    }

    dispose(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

const PREFIX = "edge-fleet-ssh-";

/**
 * A run killed with SIGKILL cannot remove its key; the next run on this
 * machine does, for every directory whose process is gone.
 */
function removeStaleMaterial(): void {
    for (const name of fs.readdirSync(os.tmpdir())) {
        const pid = Number(/^edge-fleet-ssh-(\d+)-/.exec(name)?.[1]);
        if (!pid || pid === process.pid) continue;
        let alive = true;
        try {
            process.kill(pid, 0);
        } catch {
            alive = false;
        }
        if (!alive) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }
}

const quote = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export class DeviceShell {
    constructor(
        readonly device: DeviceAddress,
        private readonly material: SshMaterial,
    ) {}

    private sshArgs(): string[] {
        const d = this.device;
        return [
            "-F", "none",
            "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes",
            "-i", this.material.keyFile,
            "-o", `UserKnownHostsFile=${this.material.knownHostsFor(d)}`,
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=10",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=2",
            "-p", String(d.port),
            `${d.user}@${d.host}`,
        ];
    }

    /** Runs a command on the device; `args` are quoted for the remote shell. */
    run(args: readonly string[], timeoutSeconds = 60): Promise<ShellResult> {
        return new Promise((resolve) => {
            const child = spawn("ssh", [...this.sshArgs(), "--", args.map(quote).join(" ")], { stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
            child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
            const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1000);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code: code ?? 255, stdout, stderr });
            });
        });
    }

    /** undefined when the device answers and its Docker daemon does too. */
    async probe(): Promise<{ reason: Unreachable | "docker unavailable"; detail: string } | undefined> {
        const r = await this.run(["docker", "version", "--format", "{{.Server.Version}}"], 30);
        if (r.code === 0) return undefined;
        if (r.code !== 255) return { reason: "docker unavailable", detail: lastLine(r.stderr) };
        return { reason: classifySshFailure(r.stderr), detail: lastLine(r.stderr) };
    }
}

export function classifySshFailure(stderr: string): Unreachable {
    if (/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr)) return "host key mismatch";
    if (/connection refused/i.test(stderr)) return "connection refused";
    if (/timed out|timeout/i.test(stderr)) return "timed out";
    if (/permission denied/i.test(stderr)) return "authentication refused";
    return "unreachable";
}

function lastLine(s: string): string {
    return s.trim().split("\n").filter(Boolean).pop() ?? "";
}
