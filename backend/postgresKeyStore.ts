/**
 * Keys in a table of their own beside the one Pulumi's postgres:// backend
 * keeps the state in (`<state table>_edge_fleet`, in the same database): backed up with
 * the state and readable by whoever can read it. Not rows of Pulumi's own
 * table: how Pulumi encodes its rows (key prefixes, data column type) is its
 * business and has changed between versions.
 */
import { Pool } from "pg";
import { KeyStore } from "./keyStore";
import { redactBackendUrl } from "./url";

export class PostgresKeyStore implements KeyStore {
    readonly shared = true;
    private readonly pool: Pool;
    private ready: Promise<void> | undefined;

    /**
     * `connection` is a postgres:// URL; a password missing from it comes
     * from PGPASSWORD or ~/.pgpass, as for Pulumi itself. `table` has been
     * checked to be a bare identifier (backend/url.ts).
     */
    constructor(
        private readonly connection: string,
        private readonly table: string,
    ) {
        // One connection: records are written one at a time, in order.
        this.pool = new Pool({ connectionString: connection, max: 1, connectionTimeoutMillis: 15_000 });
        // An idle client that loses its server must not crash the process.
        this.pool.on("error", () => {});
    }

    get where(): string {
        return `${redactBackendUrl(this.connection)} (table ${this.table})`;
    }

    async get(key: string): Promise<string | undefined> {
        await this.init();
        const r = await this.query<{ data: string }>(`SELECT data FROM ${this.table} WHERE key = $1`, [key]);
        return r[0]?.data;
    }

    async put(key: string, value: string): Promise<void> {
        await this.init();
        await this.query(`INSERT INTO ${this.table} (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`, [key, value]);
    }

    async list(prefix: string): Promise<string[]> {
        await this.init();
        // starts_with, not LIKE: a key may contain _ or %.
        const r = await this.query<{ key: string }>(`SELECT key FROM ${this.table} WHERE starts_with(key, $1) ORDER BY key`, [prefix]);
        return r.map((row) => row.key);
    }

    async close(): Promise<void> {
        await this.pool.end();
    }

    /** Made on first use, like Pulumi's own table. */
    private init(): Promise<void> {
        this.ready ??= this.query(
            `CREATE TABLE IF NOT EXISTS ${this.table} (key TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`,
            [],
        ).then(() => undefined);
        return this.ready;
    }

    private async query<T extends object>(sql: string, params: unknown[]): Promise<T[]> {
        try {
            return (await this.pool.query(sql, params)).rows as T[];
        } catch (e) {
            // The driver's messages name the server, never the password; say which store failed.
            throw new Error(`rollout records in ${this.where}: ${(e as Error).message}`, { cause: e });
        }
    }
}
