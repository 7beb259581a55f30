/**
 * ssh/master.ts: the master is opened in the background and announced to the
 * provider beside its control socket until it is up or has failed. `ssh` is
 * a stand-in here that records its arguments and exits as told.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OPENING_SUFFIX, openMaster } from "../../ssh/master";

let work: string;
let saved: { path?: string; multiplex?: string };

/** An `ssh` on PATH that sleeps `seconds`, writes its arguments to args.txt and exits with `code`. */
function fakeSsh(seconds: number, code: number): void {
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\nsleep ${seconds}\nprintf '%s\\n' "$@" > "${work}/args.txt"\nexit ${code}\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:${saved.path}`;
}

async function until(done: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!done()) {
        if (Date.now() > end) throw new Error("timed out");
        await new Promise((r) => setTimeout(r, 20));
    }
}

describe("openMaster", () => {
    beforeEach(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "master-"));
        saved = { path: process.env.PATH, multiplex: process.env.EDGE_FLEET_SSH_MULTIPLEX };
        delete process.env.EDGE_FLEET_SSH_MULTIPLEX;
    });
    afterEach(() => {
        process.env.PATH = saved.path;
        if (saved.multiplex === undefined) delete process.env.EDGE_FLEET_SSH_MULTIPLEX;
        else process.env.EDGE_FLEET_SSH_MULTIPLEX = saved.multiplex;
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("returns at once with the master announced, and takes the announcement back once ssh is done", async () => {
        fakeSsh(0.3, 0);
        const opening = path.join(work, "mux" + OPENING_SUFFIX);
        const started = Date.now();
        openMaster(["-F", "none"], work, "edge@device", 2222);
        expect(Date.now() - started).toBeLessThan(200);
        expect(fs.existsSync(opening)).toBe(true);
        await until(() => !fs.existsSync(opening));
        const args = fs.readFileSync(path.join(work, "args.txt"), "utf8").trim().split("\n");
        expect(args).toEqual([
            "-F", "none",
            "-o", "ControlMaster=yes",
            "-o", `ControlPath=${path.join(work, "mux")}`,
            "-o", "ControlPersist=60",
            "-p", "2222",
            "-N", "-f",
            "edge@device",
        ]);
    });

    it("takes the announcement back when the master fails, so the provider stops waiting", async () => {
        fakeSsh(0.1, 255);
        const opening = path.join(work, "mux" + OPENING_SUFFIX);
        openMaster(["-F", "none"], work, "edge@device", 22);
        expect(fs.existsSync(opening)).toBe(true);
        await until(() => !fs.existsSync(opening));
    });

    it("announces nothing and starts no ssh with multiplexing off", async () => {
        fakeSsh(0, 0);
        process.env.EDGE_FLEET_SSH_MULTIPLEX = "off";
        openMaster(["-F", "none"], work, "edge@device", 22);
        await new Promise((r) => setTimeout(r, 200));
        expect(fs.readdirSync(work).sort()).toEqual(["bin"]);
    });
});
