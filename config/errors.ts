/**
 * Configuration problems are collected, not thrown one at a time, so that a
 * stack file with five mistakes is fixed in one round trip rather than five.
 */

export interface ConfigProblem {
    /** Dotted path of the offending field, e.g. `devices[1].services.tv_api.cpus`. */
    readonly path: string;
    /** What is wrong and what is allowed. */
    readonly message: string;
    /** The offending value, already rendered; absent when the field is missing. */
    readonly value?: string;
}

/**
 * Records one problem: the field as path segments or already dotted, what is
 * wrong, and the offending value unless it must not be shown (secrets, or a
 * missing field).
 */
export type AddProblem = (path: readonly PropertyKey[] | string, message: string, value?: unknown, showValue?: boolean) => void;

/** A list of problems and the function that appends to it. */
export function problemCollector(secrets?: { readonly values: Readonly<Record<string, unknown>>; readonly keys: ReadonlySet<string> }): {
    readonly problems: ConfigProblem[];
    readonly add: AddProblem;
} {
    const problems: ConfigProblem[] = [];
    // Whatever was stored with --secret, under any key (a mistyped one too),
    // is never echoed: not as the value, not inside a message or a path.
    const all = [...(secrets?.keys ?? [])].flatMap((k) => leaves(secrets!.values[k]));
    // Short secrets would garble every message they occur in by chance; they
    // are hidden where a value is exactly one of them, and where a message
    // quotes one whole, as messages quote values.
    const exact = new Set(all);
    const quoted = all.filter((t) => t.length < 6).map((t) => JSON.stringify(t));
    const hidden = [...new Set([...all.filter((t) => t.length >= 6), ...quoted])].sort((a, b) => b.length - a.length);
    const redact = (text: string) => hidden.reduce((t, h) => t.split(h).join("<secret>"), text);
    const add: AddProblem = (p, message, value, showValue = true) => {
        const path = typeof p === "string" ? p : pathToString(p);
        const top = typeof p === "string" ? p.split(/[.[]/)[0]! : String(p[0] ?? "");
        const secret = secrets?.keys.has(top) === true;
        const equalsSecret = (typeof value === "string" || typeof value === "number") && exact.has(String(value));
        problems.push({
            path: redact(path),
            message: secret ? `${redact(message)} (the setting is a secret; its value is not shown)` : redact(message),
            ...(showValue && !secret ? { value: equalsSecret ? "<secret>" : renderValue(value, redact) } : {}),
        });
    };
    return { problems, add };
}

/** Every string inside a value, raw and as JSON escapes it; numbers as written, which is how they reach a message. */
function leaves(v: unknown): string[] {
    if (typeof v === "string") return v === "" ? [] : [v, JSON.stringify(v).slice(1, -1)];
    if (typeof v === "number") return [String(v)];
    if (v && typeof v === "object") return Object.values(v).flatMap(leaves);
    return [];
}

/** The same field can fail in several passes (zod, then a semantic check); report it once. */
export function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
    const seen = new Set<string>();
    return problems.filter((p) => {
        const key = `${p.path}\u0000${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

export class ConfigError extends Error {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(
            `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); no device was contacted:\n` +
                problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export function formatProblem(p: ConfigProblem): string {
    return p.value === undefined ? `${p.path}: ${p.message}` : `${p.path}: ${p.message} (got ${p.value})`;
}

/**
 * Renders a config value for an error message without ever echoing secret
 * material. `redact` runs before shortening, so that a secret cut in two by
 * the shortening is still found whole.
 */
export function renderValue(value: unknown, redact: (text: string) => string = (t) => t): string {
    if (value === undefined) return "nothing";
    if (typeof value === "string" && /PRIVATE KEY-----/.test(value)) return "<a private key, not shown>";
    // Stack config is JSON data; these two only reach here from code, and JSON.stringify skips them.
    if (typeof value === "symbol" || typeof value === "function") return value.toString();
    const json = JSON.stringify(value);
    if (json === undefined) return "nothing";
    const shown = redact(json);
    if (shown.length <= 80) return shown;
    return typeof value === "string" ? `${shown.slice(0, 76)}..."` : `${shown.slice(0, 77)}...`;
}

/**
 * Problems grouped by the part of the stack file they are about, in the
 * order of `keys` (unknown settings last), each device's together; within a
 * group, in the order they were found. The same file always gives the same list.
 */
export function orderProblems(problems: readonly ConfigProblem[], keys: readonly string[]): ConfigProblem[] {
    const rank = (p: ConfigProblem): [number, number] => {
        const top = keys.indexOf(p.path.split(/[.[]/)[0]!);
        const device = /^devices\[(\d+)\]/.exec(p.path);
        return [top === -1 ? keys.length : top, device ? Number(device[1]) : -1];
    };
    return problems
        .map((p, i) => ({ p, i, r: rank(p) }))
        .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
        .map((x) => x.p);
}

export function pathToString(path: readonly PropertyKey[]): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
        else out += out === "" ? String(part) : `.${String(part)}`;
    }
    return out === "" ? "(stack)" : out;
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let cur: unknown = root;
    for (const part of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<PropertyKey, unknown>)[part as string];
    }
    return cur;
}
