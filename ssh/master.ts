/**
 * One multiplexed SSH connection per device for the length of a run.
 *
 * Docker's ssh connection helper opens a new `ssh` for every connection to
 * the daemon, and a deploy holds a dozen or more at once. A stock sshd
 * (MaxStartups 10:30:100) starts dropping new connections while more than
 * ten are still authenticating, so a burst of separate connections fails at
 * random. A master connection, opened before the docker provider dials,
 * carries up to sshd's MaxSessions (10) sessions with no new handshake; a
 * session beyond that falls back to a connection of its own, as does every
 * session if the master could not be opened.
 *
 * The master is opened in the background: the program registers the device's
 * provider at once, and the provider waits for the master before its first
 * call to the device (toolchain/docker-provider/bridge/mastergate.go), told
 * by a file beside the control socket, `<socket>.opening`, that one is on its
 * way. A run that never reaches the device (a no-op, most previews) does not
 * wait for the handshake at all.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** A Unix socket path longer than this does not fit in sockaddr_un on every system. */
const MAX_SOCKET_PATH = 100;
/** Seconds the master stays after its last session: long enough to bridge the gaps of a run. */
export const CONTROL_PERSIST_SECONDS = 60;
/** How long the master is announced as on its way before sessions connect on their own. */
const MASTER_WAIT_SECONDS = 15;
/** Beside the control socket while its master is being opened; the provider waits while it exists. */
export const OPENING_SUFFIX = ".opening";

/** The control socket of a device's master, or undefined where sharing is off or the path is too long. */
export function controlPath(keyDir: string): string | undefined {
    if (process.env.EDGE_FLEET_SSH_MULTIPLEX === "off") return undefined;
    const p = path.join(keyDir, "mux");
    return Buffer.byteLength(p) <= MAX_SOCKET_PATH ? p : undefined;
}

/** What sessions add to use the master; ControlMaster=no: a session never becomes a master itself. */
export function sharingOptions(keyDir: string): string[] {
    const socket = controlPath(keyDir);
    return socket ? ["-o", "ControlMaster=no", "-o", `ControlPath=${socket}`] : [];
}

/** Masters being opened at once, at most: a fleet of hundreds must not start hundreds of handshakes together. */
const MAX_OPENING = 16;
let opening = 0;
const queued: (() => void)[] = [];

async function inTurn(open: () => Promise<void>): Promise<void> {
    if (opening >= MAX_OPENING) await new Promise<void>((go) => queued.push(go));
    opening++;
    try {
        await open();
    } finally {
        opening--;
        queued.shift()?.();
    }
}

/**
 * Opens the master unless one is running, in the background: it returns at
 * once, having announced the master to the provider (OPENING_SUFFIX), and
 * takes the announcement back when the master is up or has failed. With
 * `keepAlive` the program stays alive until then; a preview of devices never
 * deployed dials none of them and must not be held up by those that do not
 * answer yet.
 */
export function openMaster(baseOptions: readonly string[], keyDir: string, destination: string, port: number, keepAlive = true): void {
    const socket = controlPath(keyDir);
    if (!socket) return;
    const opening = socket + OPENING_SUFFIX;
    // Written before the provider can be registered, so its first call cannot miss it.
    fs.writeFileSync(opening, "", { mode: 0o600 });
    void inTurn(() => openNow(baseOptions, socket, destination, port, keepAlive)).finally(() => fs.rmSync(opening, { force: true }));
}

function openNow(baseOptions: readonly string[], socket: string, destination: string, port: number, keepAlive: boolean): Promise<void> {
    if (fs.existsSync(socket)) {
        // A master of an earlier run that is still alive is reused; a stale socket is replaced.
        const check = spawn("ssh", ["-F", "none", "-o", `ControlPath=${socket}`, "-O", "check", destination], { stdio: "ignore" });
        if (!keepAlive) check.unref();
        return new Promise((resolve) =>
            check.on("close", (code) => {
                if (code === 0) return resolve();
                fs.rmSync(socket, { force: true });
                resolve(openNow(baseOptions, socket, destination, port, keepAlive));
            }),
        );
    }
    const args = [
        ...baseOptions,
        "-o", "ControlMaster=yes",
        "-o", `ControlPath=${socket}`,
        "-o", `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
        "-p", String(port),
        // -N: no command; -f: into the background once authenticated, so it outlives this program.
        "-N", "-f",
        destination,
    ];
    const child = spawn("ssh", args, { stdio: "ignore", detached: true });
    if (!keepAlive) child.unref();
    return new Promise((resolve) => {
        const timer = setTimeout(resolve, MASTER_WAIT_SECONDS * 1000);
        if (!keepAlive) timer.unref();
        child.on("close", () => {
            clearTimeout(timer);
            resolve();
        });
        child.on("error", () => {
            clearTimeout(timer);
            resolve();
        });
    });
}
