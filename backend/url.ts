/**
 * What a Pulumi backend URL points at, as far as this tool cares: a
 * directory (file://), a PostgreSQL table (postgres://), or something else
 * (s3://, gs://, azblob://, Pulumi Cloud) that it only hands to Pulumi.
 * Pure: no I/O, so the parsing and the redaction are unit-tested apart.
 */
import * as os from "node:os";
import * as path from "node:path";

export type Backend =
    | { readonly kind: "file"; readonly dir: string }
    | {
          readonly kind: "postgres";
          /** The URL without Pulumi's own `table` parameter: what a PostgreSQL client connects with. */
          readonly connection: string;
          /** The table Pulumi keeps its state in (`?table=`, default pulumi_state). */
          readonly table: string;
          /** This tool's table beside it, in the same database: `<table>_edge_fleet`. */
          readonly recordsTable: string;
      }
    | { readonly kind: "other"; readonly scheme: string };

/** Pulumi's default table name for the PostgreSQL backend. */
export const DEFAULT_STATE_TABLE = "pulumi_state";

// A bare identifier: the table name is put into SQL text, so nothing that
// would need quoting is accepted.
// 52 characters leave room for the records table's suffix within
// PostgreSQL's 63.
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,51}$/;

export function parseBackendUrl(url: string, home = os.homedir()): Backend {
    if (url.startsWith("file://")) {
        const p = url.slice("file://".length).split("?")[0]!;
        return { kind: "file", dir: p.startsWith("~") ? path.join(home, p.slice(1)) : p };
    }
    if (/^postgres(ql)?:\/\//.test(url)) {
        let u: URL;
        try {
            u = new URL(url);
        } catch {
            throw new Error(`PULUMI_BACKEND_URL: ${redactBackendUrl(url)} is not a valid postgres:// URL; expected postgres://user@host:port/database?sslmode=...`);
        }
        const table = u.searchParams.get("table") ?? DEFAULT_STATE_TABLE;
        if (!TABLE_NAME.test(table)) {
            throw new Error(`PULUMI_BACKEND_URL: table=${JSON.stringify(table)} is not allowed; use lower-case letters, digits and _ (at most 52), starting with a letter or _`);
        }
        u.searchParams.delete("table");
        return { kind: "postgres", connection: u.toString(), table, recordsTable: `${table}_edge_fleet` };
    }
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1] ?? "";
    return { kind: "other", scheme };
}

/** The URL with any password replaced, for messages: postgres://edge:***@db/state. */
export function redactBackendUrl(url: string): string {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
}

/**
 * Removes the backend URL's password from any text before it is printed:
 * Pulumi quotes the backend URL in some of its errors (a locked stack names
 * the lock's URL), and a team's URL may carry the database password.
 */
export function scrubBackendSecret(text: string, url: string | undefined): string {
    const password = backendPassword(url);
    if (!password) return text;
    const forms = new Set([password, encodeURIComponent(password)]);
    try {
        forms.add(decodeURIComponent(password));
    } catch {
        // not percent-encoded; the raw form is enough
    }
    let out = text;
    for (const f of [...forms].sort((a, b) => b.length - a.length)) if (f) out = out.split(f).join("***");
    return out;
}

/** The password in the URL's user part, if it has one. */
export function backendPassword(url: string | undefined): string | undefined {
    if (!url) return undefined;
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/@:]*:([^/@]*)@/i.exec(url);
    return m?.[1] || undefined;
}
