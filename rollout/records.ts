/**
 * The record of every rollout: release, waves, each device's digests before
 * and after, outcome and times. It is written after every change of state, so
 * a killed run leaves a record the next one resumes from, and it is kept in
 * the stack's backend beside the state (`.edge-fleet/rollouts/<stack>/` of a
 * file backend's directory, rows with those keys in a PostgreSQL backend's
 * table), so that whoever can read the state can read the history, not only
 * the machine that ran it.
 */
import * as os from "node:os";
import { KeyStore } from "../backend";
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

/**
 * One stack's records, read once when a command starts and written through
 * after every change. Writes are queued in order and never block the
 * rollout; `flush` waits for them and reports the first that failed.
 */
export class RecordStore {
    private pending: Promise<void> = Promise.resolve();
    private failure: Error | undefined;

    private constructor(
        private readonly keys: KeyStore,
        private readonly prefix: string,
        private readonly records: RolloutRecord[],
        private readonly good: Map<string, LastGood>,
    ) {}

    /** Loads the stack's newest records (at most `limit`) and every device's last good settings. */
    static async open(keys: KeyStore, stack: string, limit = 20): Promise<RecordStore> {
        const prefix = `.edge-fleet/rollouts/${stack}/`;
        const ids = (await keys.list(prefix)).filter((k) => k.endsWith(".json") && !k.slice(prefix.length).includes("/"));
        const records: RolloutRecord[] = [];
        for (const k of ids.reverse().slice(0, limit)) {
            const text = await keys.get(k);
            if (text) records.push(JSON.parse(text) as RolloutRecord);
        }
        const good = new Map<string, LastGood>();
        for (const k of await keys.list(`${prefix}devices/`)) {
            const text = await keys.get(k);
            if (text && k.endsWith(".json")) good.set(k.slice(`${prefix}devices/`.length, -".json".length), JSON.parse(text) as LastGood);
        }
        return new RecordStore(keys, prefix, records, good);
    }

    /** Where the records are kept, for messages. */
    get where(): string {
        return this.keys.where;
    }

    /** False when the backend is not one records can be kept beside, and they stay on this machine. */
    get shared(): boolean {
        return this.keys.shared;
    }

    save(r: RolloutRecord): void {
        const i = this.records.findIndex((x) => x.id === r.id);
        if (i >= 0) this.records[i] = r;
        else this.records.unshift(r);
        this.write(`${this.prefix}${r.id}.json`, `${JSON.stringify(r, null, 2)}\n`);
    }

    /**
     * What a device last ran healthy, as this tool deployed or verified it:
     * its settings and image digests. Kept per device beside the records.
     */
    saveLastGood(device: string, good: LastGood): void {
        this.good.set(device, good);
        this.write(`${this.prefix}devices/${device}.json`, `${JSON.stringify(good)}\n`);
    }

    lastGood(device: string): LastGood | undefined {
        return this.good.get(device);
    }

    /** Newest first. */
    list(limit = 20): RolloutRecord[] {
        return [...this.records].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
    }

    /** The newest rollout that did not finish (running, paused or interrupted), if that is the newest of all. */
    unfinished(): RolloutRecord | undefined {
        const latest = this.list(1)[0];
        if (!latest) return undefined;
        if (latest.status === "running" && isRunnerAlive(latest)) return latest;
        return latest.status === "running" || latest.status === "paused" || latest.status === "interrupted" ? latest : undefined;
    }

    /** Waits for every write so far; throws the first that failed. */
    async flush(): Promise<void> {
        await this.pending;
        if (this.failure) throw this.failure;
    }

    async close(): Promise<void> {
        try {
            await this.flush();
        } finally {
            await this.keys.close();
        }
    }

    private write(key: string, value: string): void {
        // A snapshot now: the record object keeps changing while the write waits its turn.
        this.pending = this.pending.then(() =>
            this.keys.put(key, value).catch((e: unknown) => {
                this.failure ??= e as Error;
            }),
        );
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
