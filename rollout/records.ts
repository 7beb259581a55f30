/**
 * The record of every rollout: release, waves, each device's digests before
 * and after, outcome and times. It is written after every change of state, so
 * a killed run leaves a record the next one resumes from, and it is kept in
 * the stack's backend beside the state (for a file backend, under
 * `.edge-fleet/rollouts/` of the backend's directory), so that whoever can
 * read the state can read the history, not only the machine that ran it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeviceSnapshot } from "../plan/deviceSnapshot";

export type DeviceOutcome =
    | "waiting"
    | "deploying"
    | "gating"
    | "healthy"
    | "unchanged"
    | "failed"
    | "rolling back"
    | "rolled back"
    | "rollback failed"
    | "unreachable";

export interface DeviceRecord {
    readonly wave: number;
    status: DeviceOutcome;
    /** Why it failed or was skipped: unreachable reason, health output, engine error. */
    reason?: string;
    problems?: { service: string; state: string; healthOutput?: string }[];
    /** Service to `repo@sha256:...` before this rollout changed it, and after. */
    before?: Record<string, string>;
    after?: Record<string, string>;
    /** Whether this rollout changed anything on the device (only those are rolled back). */
    changed?: boolean;
    startedAt?: string;
    finishedAt?: string;
}

export type RolloutStatus = "running" | "succeeded" | "failed" | "rolled back" | "paused" | "interrupted" | "superseded";

export interface RolloutRecord {
    readonly id: string;
    readonly stack: string;
    /** Digest of what the stack file declares for its devices; a rerun of the same target resumes. */
    readonly target: string;
    /** Service to image reference the stack file declares (the release). */
    readonly release: Record<string, string>;
    readonly waves: string[][];
    status: RolloutStatus;
    summary?: string;
    readonly startedAt: string;
    finishedAt?: string;
    readonly runner: { readonly host: string; readonly pid: number };
    devices: Record<string, DeviceRecord>;
    /** What each device was deployed with before this rollout changed it: what a rollback restores. */
    beforeSettings: Record<string, DeviceSnapshot>;
}

export interface LastGood {
    readonly settings: DeviceSnapshot;
    readonly imageDigests: Record<string, string>;
    readonly rollout: string;
    readonly at: string;
}

export class RecordStore {
    private constructor(
        readonly dir: string,
        /** False when the backend is not a directory and records stay on this machine. */
        readonly shared: boolean,
    ) {}

    static forStack(stack: string, backendDir: string | undefined, cacheDir: string): RecordStore {
        const base = backendDir ?? path.join(cacheDir, "rollout-records");
        return new RecordStore(path.join(base, ".edge-fleet", "rollouts", stack), backendDir !== undefined);
    }

    save(r: RolloutRecord): void {
        fs.mkdirSync(this.dir, { recursive: true });
        const file = path.join(this.dir, `${r.id}.json`);
        // Write then rename: a reader, or a run killed mid-write, never sees half a record.
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, `${JSON.stringify(r, null, 2)}\n`);
        fs.renameSync(tmp, file);
    }

    /**
     * What a device last ran healthy, as this tool deployed or verified it:
     * its settings and image digests. Kept per device beside the records.
     */
    saveLastGood(device: string, good: LastGood): void {
        const dir = path.join(this.dir, "devices");
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${device}.json`);
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, `${JSON.stringify(good)}\n`);
        fs.renameSync(tmp, file);
    }

    lastGood(device: string): LastGood | undefined {
        const file = path.join(this.dir, "devices", `${device}.json`);
        return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as LastGood) : undefined;
    }

    /** Newest first. */
    list(limit = 20): RolloutRecord[] {
        if (!fs.existsSync(this.dir)) return [];
        return fs
            .readdirSync(this.dir)
            .filter((f) => f.endsWith(".json") && f !== "devices")
            .sort()
            .reverse()
            .slice(0, limit)
            .map((f) => JSON.parse(fs.readFileSync(path.join(this.dir, f), "utf8")) as RolloutRecord);
    }

    /** The newest rollout that did not finish (running, paused or interrupted), if that is the newest of all. */
    unfinished(): RolloutRecord | undefined {
        const latest = this.list(1)[0];
        if (!latest) return undefined;
        if (latest.status === "running" && isRunnerAlive(latest)) return latest;
        return latest.status === "running" || latest.status === "paused" || latest.status === "interrupted" ? latest : undefined;
    }
}

/** A record still `running` whose process is alive on this machine belongs to a rollout in progress. */
export function isRunnerAlive(r: RolloutRecord): boolean {
    if (r.runner.host !== os.hostname()) return true;
    try {
        process.kill(r.runner.pid, 0);
        return r.runner.pid !== process.pid;
    } catch {
        return false;
    }
}

/** Sortable, unique enough for one stack: start time then random. */
export function newRolloutId(now = new Date()): string {
    return `${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${Math.random().toString(36).slice(2, 8)}`;
}
