/**
 * The deploy key as a file, for as long as one Pulumi run needs it.
 *
 * Docker's ssh connection helper runs `ssh -i <file>`, so the key must exist
 * on disk while the engine talks to the devices, and that outlives the
 * program: the engine deletes what the program no longer declares after the
 * program has exited. The program therefore hands the clean-up to a small
 * detached process that waits for the Pulumi CLI to end (however it ends:
 * success, error, Ctrl-C or SIGKILL) and then removes the stack's keys.
 *
 * The path is stable per stack and device, because it is part of the docker
 * provider's inputs: a path that changed every run would show the provider
 * as changed in every preview.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Where the keys of every stack live while runs need them; private to this user. */
export function sshBaseDir(): string {
    if (process.env.EDGE_FLEET_SSH_DIR) return process.env.EDGE_FLEET_SSH_DIR;
    const uid = typeof process.getuid === "function" ? process.getuid() : 0;
    // XDG_RUNTIME_DIR is a per-user tmpfs where systemd provides one: nothing
    // in it survives a reboot, even if a clean-up never ran.
    const runtime = process.env.XDG_RUNTIME_DIR;
    return runtime ? path.join(runtime, "edge-fleet", "ssh") : path.join(os.tmpdir(), `edge-fleet-${uid}`, "ssh");
}

export function sshMaterialDir(stack: string, deviceName: string): string {
    return path.join(sshBaseDir(), stack, deviceName);
}

/**
 * Creates `dir` (and its parents) mode 0700 and refuses one that another user
 * could read or swap: in a shared /tmp a directory prepared by someone else
 * would hand them the key.
 */
function ensurePrivateDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
    if (!st.isDirectory() || st.uid !== uid) {
        throw new Error(`${dir} must be a directory owned by this user to hold the deploy key; remove it and run again`);
    }
    if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

const reaped = new Set<string>();

/**
 * Writes a device's key and pinned host key, and makes sure the stack's keys
 * are removed once the Pulumi CLI that runs this program has ended.
 */
export function writeDeviceKey(stack: string, deviceName: string, privateKey: string, knownHostsLine: string): string {
    const base = sshBaseDir();
    ensurePrivateDir(path.dirname(base));
    ensurePrivateDir(base);
    const stackDir = path.join(base, stack);
    ensurePrivateDir(stackDir);
    if (!reaped.has(stackDir)) {
        reaped.add(stackDir);
        startReaper(stackDir);
    }
    const dir = path.join(stackDir, deviceName);
    ensurePrivateDir(dir);
    const keyFile = path.join(dir, "id_deploy");
    fs.writeFileSync(keyFile, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    fs.chmodSync(keyFile, 0o600);
    fs.writeFileSync(path.join(dir, "known_hosts"), `${knownHostsLine}\n`, { mode: 0o600 });
    return dir;
}

/**
 * The process whose end ends the run: the `pulumi` CLI among our ancestors
 * (the language host sits between it and us), else our parent.
 */
export function runOwnerPid(): number {
    let pid = process.ppid;
    for (let depth = 0; depth < 4 && pid > 1; depth++) {
        const stat = readProc(pid);
        if (!stat) break;
        if (stat.comm === "pulumi") return pid;
        pid = stat.ppid;
    }
    return process.ppid;
}

function readProc(pid: number): { comm: string; ppid: number } | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // The name is in parentheses and may itself contain spaces or ')'.
        const close = stat.lastIndexOf(")");
        const comm = stat.slice(stat.indexOf("(") + 1, close);
        const ppid = Number(stat.slice(close + 2).split(" ")[1]);
        return Number.isInteger(ppid) ? { comm, ppid } : undefined;
    } catch {
        return undefined;
    }
}

function startReaper(stackDir: string): void {
    const owner = runOwnerPid();
    const holders = path.join(stackDir, ".holders");
    ensurePrivateDir(holders);
    // One file per run that still needs the keys: a preview in one terminal
    // must not take the key from an `up` running in another.
    fs.writeFileSync(path.join(holders, String(owner)), "", { mode: 0o600 });
    // The program's parent is the language host, which a killed CLI leaves behind (reaper.cjs).
    const host = readProc(process.ppid)?.comm.startsWith("pulumi-language") ? [String(process.ppid)] : [];
    const child = spawn(process.execPath, [path.join(__dirname, "reaper.cjs"), stackDir, String(owner), ...host], {
        detached: true,
        stdio: "ignore",
        env: {},
    });
    child.unref();
}
