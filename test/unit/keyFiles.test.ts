/**
 * The deploy key on disk: private, at a stable path, and gone once the run
 * that needed it has ended, while another run still using it keeps it.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sshOptions } from "../../components/deviceConnection";
import { sshMaterialDir, writeDeviceKey } from "../../ssh/keyFiles";

const REAPER = path.resolve(__dirname, "..", "..", "ssh", "reaper.cjs");
let base: string;
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
    const c = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(c);
    return c;
}

async function gone(p: string, seconds: number): Promise<boolean> {
    for (let i = 0; i < seconds * 10; i++) {
        if (!fs.existsSync(p)) return true;
        await new Promise((r) => setTimeout(r, 100));
    }
    return false;
}

function plantStack(stack: string, holders: number[]): string {
    const dir = path.join(base, stack);
    fs.mkdirSync(path.join(dir, "dev-a"), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, "dev-a", "id_deploy"), "key\n", { mode: 0o600 });
    fs.mkdirSync(path.join(dir, ".holders"), { recursive: true });
    for (const h of holders) fs.writeFileSync(path.join(dir, ".holders", String(h)), "");
    return dir;
}

beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-keys-"));
    process.env.EDGE_FLEET_SSH_DIR = base;
});

afterEach(() => {
    for (const c of children.splice(0)) c.kill("SIGKILL");
    fs.rmSync(base, { recursive: true, force: true });
});

describe("ssh options", () => {
    it("read no ssh config file and trust only the pinned host key", () => {
        const opts = sshOptions("/keys/s/d");
        expect(opts.slice(0, 2)).toEqual(["-F", "none"]);
        expect(opts.join(" ")).toContain("-o StrictHostKeyChecking=yes");
        expect(opts.join(" ")).toContain("-o UserKnownHostsFile=/keys/s/d/known_hosts");
        expect(opts.join(" ")).toContain("-o GlobalKnownHostsFile=/dev/null");
        expect(opts.join(" ")).toContain("-i /keys/s/d/id_deploy");
    });

    it("share the device's master connection when multiplexing is on, and never become a master themselves", () => {
        const saved = process.env.EDGE_FLEET_SSH_MULTIPLEX;
        try {
            delete process.env.EDGE_FLEET_SSH_MULTIPLEX;
            expect(sshOptions("/keys/s/d").slice(-4)).toEqual(["-o", "ControlMaster=no", "-o", "ControlPath=/keys/s/d/mux"]);
            // sockaddr_un holds about 100 bytes: a longer path gets no sharing rather than a failing ssh.
            expect(sshOptions(`/${"k".repeat(120)}`).join(" ")).not.toContain("ControlPath");
            process.env.EDGE_FLEET_SSH_MULTIPLEX = "off";
            expect(sshOptions("/keys/s/d").join(" ")).not.toContain("Control");
        } finally {
            if (saved === undefined) delete process.env.EDGE_FLEET_SSH_MULTIPLEX;
            else process.env.EDGE_FLEET_SSH_MULTIPLEX = saved;
        }
    });
});

describe("deploy key files", () => {
    it("are written mode 0600 in directories mode 0700 at a path that depends only on stack and device", () => {
        const dir = writeDeviceKey("s1", "dev-a", "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----", "[10.0.0.1]:2222 ssh-ed25519 AAAA");
        expect(dir).toBe(sshMaterialDir("s1", "dev-a"));
        expect(dir).toBe(path.join(base, "s1", "dev-a"));
        expect(fs.statSync(path.join(dir, "id_deploy")).mode & 0o777).toBe(0o600);
        expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
        expect(fs.statSync(path.join(base, "s1")).mode & 0o777).toBe(0o700);
        expect(fs.readFileSync(path.join(dir, "id_deploy"), "utf8")).toMatch(/END OPENSSH PRIVATE KEY-----\n$/);
        expect(fs.readFileSync(path.join(dir, "known_hosts"), "utf8")).toBe("[10.0.0.1]:2222 ssh-ed25519 AAAA\n");
    });

    it("refuse a key directory another user could read, by making it private", () => {
        fs.mkdirSync(path.join(base, "s2"), { mode: 0o777 });
        fs.chmodSync(path.join(base, "s2"), 0o777);
        writeDeviceKey("s2", "dev-a", "k", "h k");
        expect(fs.statSync(path.join(base, "s2")).mode & 0o777).toBe(0o700);
    });

    it("are removed once the run that wrote them has ended", async () => {
        const run = sleeper();
        const dir = plantStack("s3", [run.pid!]);
        spawn(process.execPath, [REAPER, dir, String(run.pid)], { stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 600));
        expect(fs.existsSync(path.join(dir, "dev-a", "id_deploy"))).toBe(true);
        run.kill("SIGKILL");
        expect(await gone(dir, 5)).toBe(true);
    });

    it("stay while another run of the same stack still holds them", async () => {
        const first = sleeper();
        const second = sleeper();
        const dir = plantStack("s4", [first.pid!, second.pid!]);
        spawn(process.execPath, [REAPER, dir, String(first.pid)], { stdio: "ignore" });
        spawn(process.execPath, [REAPER, dir, String(second.pid)], { stdio: "ignore" });
        first.kill("SIGKILL");
        expect(await gone(path.join(dir, ".holders", String(first.pid)), 5)).toBe(true);
        expect(fs.existsSync(path.join(dir, "dev-a", "id_deploy"))).toBe(true);
        second.kill("SIGKILL");
        expect(await gone(dir, 5)).toBe(true);
    });

    it("go with the run's language host when its CLI was killed, and nothing else of that pid is stopped", async () => {
        // A stand-in with the language host's name: what /proc says it is.
        const bin = path.join(base, "pulumi-language-nodejs");
        fs.copyFileSync(fs.realpathSync(execFileSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).trim()), bin);
        fs.chmodSync(bin, 0o755);
        const host = spawn(bin, ["30"], { stdio: "ignore" });
        children.push(host);
        const other = sleeper();
        const run = sleeper();
        const second = sleeper();
        const dir = plantStack("s6", [run.pid!, second.pid!]);
        spawn(process.execPath, [REAPER, dir, String(run.pid), String(host.pid)], { stdio: "ignore" });
        spawn(process.execPath, [REAPER, dir, String(second.pid), String(other.pid)], { stdio: "ignore" });
        const exited = (c: ChildProcess) => new Promise<boolean>((r) => (c.exitCode !== null || c.signalCode !== null ? r(true) : c.once("exit", () => r(true))));
        run.kill("SIGKILL");
        expect(await Promise.race([exited(host), new Promise((r) => setTimeout(() => r(false), 5000))])).toBe(true);
        second.kill("SIGKILL");
        await new Promise((r) => setTimeout(r, 3000));
        expect(other.exitCode).toBeNull();
        expect(other.signalCode).toBeNull();
    });

    it("of a run killed together with its clean-up are removed by the next run's", async () => {
        const killed = 2 ** 22 + 12345; // no such process
        const run = sleeper();
        const dir = plantStack("s5", [killed, run.pid!]);
        spawn(process.execPath, [REAPER, dir, String(run.pid)], { stdio: "ignore" });
        run.kill("SIGKILL");
        expect(await gone(dir, 5)).toBe(true);
    });
});
