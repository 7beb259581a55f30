/** Where this tool keeps its records, chosen from the Pulumi backend URL. */
import * as path from "node:path";
import { FileKeyStore, KeyStore } from "./keyStore";
import { PostgresKeyStore } from "./postgresKeyStore";
import { parseBackendUrl } from "./url";

export { FileKeyStore, KeyStore } from "./keyStore";
export { PostgresKeyStore } from "./postgresKeyStore";
export { Backend, DEFAULT_STATE_TABLE, backendPassword, parseBackendUrl, redactBackendUrl, scrubBackendSecret } from "./url";

/**
 * The store beside the stack's state: the file backend's directory, the
 * PostgreSQL backend's table, or, for a backend this tool cannot write
 * beside (object stores, Pulumi Cloud), a directory in this machine's cache.
 */
export function openKeyStore(backendUrl: string, cacheDir: string): KeyStore {
    const b = parseBackendUrl(backendUrl);
    switch (b.kind) {
        case "file":
            return new FileKeyStore(b.dir, true);
        case "postgres":
            return new PostgresKeyStore(b.connection, b.recordsTable);
        case "other":
            return new FileKeyStore(path.join(cacheDir, "rollout-records"), false);
    }
}
