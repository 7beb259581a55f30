/**
 * Turns zod's structural issues into problems that name the field, the value
 * and what is allowed. The allowed fields are read from the schemas
 * themselves, so a field added to a schema shows up in the messages too.
 */
import { z } from "zod";
import { SERVICE_NAMES } from "./defaults";
import { AddProblem, valueAt } from "./errors";
import { fleetSchema, isCredentialField } from "./schema";

export function reportZodIssue(issue: z.core.$ZodIssue, input: unknown, add: AddProblem): void {
    if (issue.code === "unrecognized_keys") {
        const parent = valueAt(input, issue.path);
        if (isServiceMap(issue.path)) {
            for (const key of issue.keys) add([...issue.path, key], `unknown service ${JSON.stringify(key)}; allowed: ${SERVICE_NAMES.join(", ")}`, undefined, false);
            return;
        }
        const allowed = allowedKeysAt(issue.path);
        for (const key of issue.keys) {
            add([...issue.path, key], `unknown field${allowed ? `; allowed: ${allowed.join(", ")}` : ""}`, (parent as Record<string, unknown>)[key]);
        }
        return;
    }
    if (issue.code === "invalid_key") {
        // Record keys: zod reports the key's own issue, which names the allowed values.
        const inner = issue.issues[0];
        add(issue.path, inner ? inner.message : issue.message, issue.path[issue.path.length - 1]);
        return;
    }
    const value = valueAt(input, issue.path);
    if (value !== undefined) add(issue.path, plainMessage(issue), value);
    else if (issue.code === "invalid_value") add(issue.path, `required; allowed: ${issue.values.map(String).join(", ")}`, undefined, false);
    else add(issue.path, `required: ${plainMessage(issue)}`, undefined, false);
}

const KINDS: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    object: "a mapping",
    record: "a mapping",
    array: "a list",
};

/**
 * The schemas' own messages say what is allowed; where a schema gives none,
 * zod's generic one ("Invalid input: expected number, received string") is
 * said in the stack file's terms instead.
 */
function plainMessage(issue: z.core.$ZodIssue): string {
    if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input:")) return `must be ${KINDS[issue.expected] ?? issue.expected}`;
    if (issue.code === "invalid_value" && issue.message.startsWith("Invalid option:")) return `must be one of ${issue.values.map(String).join(", ")}`;
    if (issue.code === "too_small" && issue.message.startsWith("Too small:")) {
        if (issue.origin === "array") return `must have at least ${String(issue.minimum)} item${Number(issue.minimum) === 1 ? "" : "s"}`;
        return `must be ${issue.inclusive === false ? "more than" : "at least"} ${String(issue.minimum)}`;
    }
    if (issue.code === "too_big" && issue.message.startsWith("Too big:")) {
        if (issue.origin === "array") return `must have at most ${String(issue.maximum)} items`;
        return `must be ${issue.inclusive === false ? "less than" : "at most"} ${String(issue.maximum)}`;
    }
    return issue.message;
}

/** `services`, `devices[i].services` and `release.services` are keyed by service name. */
function isServiceMap(p: readonly PropertyKey[]): boolean {
    const last = p[p.length - 1];
    return last === "services" && (p.length === 1 || (p[0] === "devices" && p.length === 3) || (p[0] === "release" && p.length === 2));
}

/** The fields of the object schema at a path of the stack config; undefined where there is no object. */
export function allowedKeysAt(p: readonly PropertyKey[]): string[] | undefined {
    const schema = schemaAt(fleetSchema, p);
    if (!(schema instanceof z.ZodObject)) return undefined;
    const shape = schema.shape as Record<string, z.ZodType>;
    return Object.keys(shape).filter((k) => !isCredentialField(shape[k]!));
}

/** Follows a config path through objects, lists and maps, looking through `.optional()`. */
function schemaAt(schema: z.ZodType, p: readonly PropertyKey[]): z.ZodType | undefined {
    let cur: z.ZodType | undefined = schema;
    for (const part of p) {
        cur = cur && unwrap(cur);
        if (cur instanceof z.ZodObject && typeof part === "string") cur = (cur.shape as Record<string, z.ZodType>)[part];
        else if (cur instanceof z.ZodArray && typeof part === "number") cur = cur.element as z.ZodType;
        else if (cur instanceof z.ZodRecord) cur = cur.valueType as z.ZodType;
        else return undefined;
    }
    return cur && unwrap(cur);
}

function unwrap(schema: z.ZodType): z.ZodType {
    return schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema;
}
