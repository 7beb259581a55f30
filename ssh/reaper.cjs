// Removes a stack's deploy keys once no Pulumi run needs them any more.
// Started detached by keyFiles.ts with the stack's key directory and the pid
// of the run that started it; plain JavaScript so that it starts at once.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const [stackDir, ownerArg, hostArg] = process.argv.slice(2);
const owner = Number(ownerArg);
// The run's Pulumi language host (the program's parent), if the program found one.
const languageHost = Number(hostArg);
const holders = path.join(stackDir, ".holders");

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        // EPERM: the process exists but belongs to someone else.
        return e.code === "EPERM";
    }
}

function reap() {
    fs.rmSync(path.join(holders, String(owner)), { force: true });
    let others = [];
    try {
        others = fs.readdirSync(holders).map(Number).filter((p) => Number.isInteger(p) && p > 0);
    } catch {
        // The directory is gone already: nothing left to remove.
    }
    for (const p of others) {
        // A run that was killed together with its reaper leaves its file behind.
        if (!alive(p)) fs.rmSync(path.join(holders, String(p)), { force: true });
    }
    if (others.some(alive)) return;
    closeMasters();
    fs.rmSync(stackDir, { recursive: true, force: true });
}

// The devices' shared ssh connections (ssh/master.ts) end with the run
// rather than idling on until their persist time runs out.
function closeMasters() {
    let devices;
    try {
        devices = fs.readdirSync(stackDir);
    } catch {
        return;
    }
    for (const d of devices) {
        const socket = path.join(stackDir, d, "mux");
        if (!fs.existsSync(socket)) continue;
        spawnSync("ssh", ["-F", "none", "-o", `ControlPath=${socket}`, "-O", "exit", d], { stdio: "ignore", timeout: 5000 });
    }
}

// A language host whose CLI was killed (SIGKILL) is never stopped by it and
// waits for good. It is given a moment to end on its own, as it does when
// the CLI ends normally, then stopped if it is still the language host
// (the name guards against the pid having been reused meanwhile).
function stopLanguageHost() {
    if (!Number.isInteger(languageHost) || languageHost <= 1) return;
    setTimeout(() => {
        let comm;
        try {
            comm = fs.readFileSync(`/proc/${languageHost}/comm`, "utf8");
        } catch {
            return;
        }
        if (!comm.startsWith("pulumi-language")) return;
        try {
            process.kill(languageHost, "SIGTERM");
        } catch {
            // Gone meanwhile, or not ours: nothing to stop.
        }
    }, 2000);
}

const timer = setInterval(() => {
    if (alive(owner)) return;
    clearInterval(timer);
    reap();
    stopLanguageHost();
}, 250);
