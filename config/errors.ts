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

/** Renders a config value for an error message without ever echoing secret material. */
export function renderValue(value: unknown): string {
    if (value === undefined) return "nothing";
    if (typeof value === "string") {
        if (/PRIVATE KEY-----/.test(value)) return "<a private key, not shown>";
        return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
    }
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
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
