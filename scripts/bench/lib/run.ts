/**
 * Running the tools a bench measures, and the commands around them.
 *
 * A Command is a program with its arguments and environment, so scenarios can
 * hand a deploy to `timed` (lib/timing.ts) without knowing how it is started.
 * A long-running tool (startLogged) gets a process group of its own, so that
 * Ctrl-C in a terminal reaches only the bench, which then sends it exactly one
 * SIGINT (stopRunning): Pulumi cancels cleanly and saves its state on the
 * first, and gives up at once on a second.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { constants } from "node:os";

export interface Command {
    readonly cmd: string;
    readonly args: readonly string[];
    /** Merged over process.env. */
    readonly env?: Readonly<Record<string, string>>;
    readonly cwd?: string;
    /** A file whose content is the command's standard input (secrets go this way, never in argv). */
    readonly stdinFile?: string;
}

export interface Output {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

const running = new Set<ChildProcess>();

function stdinOf(c: Command): number | "ignore" {
    return c.stdinFile ? fs.openSync(c.stdinFile, "r") : "ignore";
}

/**
 * Runs a command and collects its output; never throws on a non-zero exit.
 * With showProgress, its stderr goes to ours instead (for builds that say
 * what they are doing).
 */
export function capture(c: Command, showProgress = false): Promise<Output> {
    return new Promise((resolve, reject) => {
        const stdin = stdinOf(c);
        const child = spawn(c.cmd, [...c.args], {
            cwd: c.cwd,
            env: { ...process.env, ...c.env },
            stdio: [stdin, "pipe", showProgress ? "inherit" : "pipe"],
        });
        if (typeof stdin === "number") fs.closeSync(stdin);
        running.add(child);
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code, signal) => {
            running.delete(child);
            resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout, stderr });
        });
    });
}

/** As capture, but a non-zero exit is an error that carries the command's stderr. */
export async function check(c: Command, showProgress = false): Promise<string> {
    const r = await capture(c, showProgress);
    if (r.code !== 0) throw new Error(`${c.cmd} ${c.args.join(" ")}: exit ${r.code}\n${r.stderr.trim()}`);
    return r.stdout;
}

export interface Started {
    readonly pid: number;
    /** The exit code (128 + signal number when killed by a signal). */
    readonly exited: Promise<number>;
}

/** Starts a command with its output appended to a log file. */
export function startLogged(c: Command, logFile: string): Started {
    const log = fs.openSync(logFile, "a");
    const stdin = stdinOf(c);
    const child = spawn(c.cmd, [...c.args], { cwd: c.cwd, env: { ...process.env, ...c.env }, stdio: [stdin, log, log], detached: true });
    // The child has its own copies of these.
    fs.closeSync(log);
    if (typeof stdin === "number") fs.closeSync(stdin);
    running.add(child);
    const exited = new Promise<number>((resolve, reject) => {
        child.on("error", reject);
        child.on("exit", (code, signal) => {
            running.delete(child);
            resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
        });
    });
    if (child.pid === undefined) throw new Error(`${c.cmd} could not be started`);
    return { pid: child.pid, exited };
}

/** Asks every running child to stop as after Ctrl-C, and waits until they have. */
export async function stopRunning(): Promise<void> {
    const waits = [...running].map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGINT");
    }));
    await Promise.all(waits);
}

export function tail(file: string, lines: number): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "";
    }
}
