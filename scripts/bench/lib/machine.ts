/**
 * The machine a bench ran on, so figures from different machines are not
 * compared blindly: cores, memory, OS, kernel, and the versions of the
 * runtimes and tools involved. A tool that is missing shows as "-".
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { capture } from "./run";

export type MachineDescription = Readonly<Record<string, string>>;

async function firstLine(cmd: string, args: string[], pick: (line: string) => string = (l) => l): Promise<string> {
    try {
        const r = await capture({ cmd, args });
        const line = r.stdout.trim().split("\n")[0] ?? "";
        return r.code === 0 && line ? pick(line) : "-";
    } catch {
        return "-";
    }
}

function osName(): string {
    try {
        return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1] ?? os.type();
    } catch {
        return os.type();
    }
}

/** The 1, 5 and 15 minute load averages: figures from a machine busy with other work are slower. */
export function loadAverage(): string {
    return os.loadavg().map((l) => l.toFixed(2)).join(" ");
}

export async function describeMachine(tools: Readonly<Record<string, string>>, loadAtStart: string): Promise<MachineDescription> {
    const cpus = os.cpus();
    return {
        cores: `${cpus.length} (${cpus[0]?.model.replace(/\s+/g, " ").trim() ?? "?"})`,
        memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
        OS: osName(),
        kernel: `${os.release()} (${os.arch()})`,
        "Node.js": process.version,
        Go: await firstLine("go", ["version"], (l) => l.replace(/^go version /, "")),
        // The engine every simulated device runs.
        "Docker engine": await firstLine("dockerd", ["--version"], (l) => l.replace(/^Docker version /, "")),
        "Pulumi CLI": await firstLine("pulumi", ["version"]),
        ...tools,
        "load average (start; end)": `${loadAtStart}; ${loadAverage()}`,
    };
}
