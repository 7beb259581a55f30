/**
 * Validates a stack's structured configuration part by part instead of all or
 * nothing: every object field, map entry and list element is checked against
 * its own schema, its problems are reported, and what passed is kept. The
 * semantic checks then run on the kept parts, so one parse reports the schema
 * problems and the semantic problems together, and a part that failed the
 * schema never draws a second message from a semantic check.
 */
import { z } from "zod";
import { AddProblem } from "./errors";
import { reportZodIssue } from "./issues";
import { RawFleet, fleetSchema } from "./schema";

/**
 * A value as far as it passed its schema: failed fields and map entries are
 * left out, failed list elements are holes (undefined), so indices stay those
 * of the stack file. (Unions are checked whole: a list inside one has no holes.)
 */
export type Salvaged<T> = T extends readonly (infer E)[]
    ? (Salvaged<E> | undefined)[]
    : T extends object
      ? string extends keyof T
          ? { [K in keyof T]: Salvaged<T[K]> }
          : { [K in keyof T]?: Salvaged<T[K]> }
      : T;

export type SalvagedFleet = Salvaged<RawFleet>;

export interface SalvageResult {
    readonly fleet: SalvagedFleet;
    /** Paths of the parts that failed their schema, for checks that must know a part is missing. */
    readonly failed: readonly (readonly PropertyKey[])[];
}

/** `values` holds only the keys of fleetSchema; unknown top-level keys are reported by the caller. */
export function salvageFleet(values: Readonly<Record<string, unknown>>, add: AddProblem): SalvageResult {
    const failed: PropertyKey[][] = [];
    const report = (issues: readonly z.core.$ZodIssue[], at: readonly PropertyKey[]) => {
        for (const issue of issues) {
            const path = [...at, ...issue.path];
            reportZodIssue({ ...issue, path }, values, add);
            if (issue.code === "unrecognized_keys") failed.push(...issue.keys.map((k) => [...path, k]));
            else failed.push(path);
        }
    };
    const kept = walk(fleetSchema, values, [], report);
    return { fleet: (kept.value ?? {}), failed };
}

type Report = (issues: readonly z.core.$ZodIssue[], at: readonly PropertyKey[]) => void;

interface Kept {
    readonly ok: boolean;
    readonly value?: unknown;
}

function walk(schema: z.ZodType, value: unknown, at: readonly PropertyKey[], report: Report): Kept {
    if (value === undefined && schema instanceof z.ZodOptional) return { ok: true };
    const inner = unwrap(schema);
    const isMap = value !== null && typeof value === "object" && !Array.isArray(value);
    if (inner instanceof z.ZodObject && isMap) return walkObject(schema, inner, value as Record<string, unknown>, at, report);
    if (inner instanceof z.ZodRecord && isMap) return walkRecord(schema, inner, value as Record<string, unknown>, at, report);
    if (inner instanceof z.ZodArray && Array.isArray(value)) return walkArray(schema, inner, value, at, report);
    // A leaf, or a container of the wrong type: its own schema says what is wrong.
    const r = schema.safeParse(value);
    if (r.success) return { ok: true, value: r.data };
    report(r.error.issues, at);
    return { ok: false };
}

/** The container's own problems (wrong size, unknown fields, invalid keys); its children report theirs. */
function ownIssues(schema: z.ZodType, value: unknown, at: readonly PropertyKey[], report: Report): boolean {
    const r = schema.safeParse(value);
    if (r.success) return true;
    const own = r.error.issues.filter((i) => i.path.length === 0 || (i.code === "invalid_key" && i.path.length === 1));
    report(own, at);
    return own.length === 0;
}

function walkObject(schema: z.ZodType, inner: z.ZodObject<Record<string, z.ZodType>>, value: Record<string, unknown>, at: readonly PropertyKey[], report: Report): Kept {
    let ok = ownIssues(schema, value, at, report);
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(inner.shape)) {
        const kept = walk(field, value[key], [...at, key], report);
        ok &&= kept.ok;
        if (kept.value !== undefined) out[key] = kept.value;
    }
    return { ok, value: out };
}

function walkRecord(schema: z.ZodType, inner: z.ZodRecord, value: Record<string, unknown>, at: readonly PropertyKey[], report: Report): Kept {
    let ok = ownIssues(schema, value, at, report);
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value)) {
        // A key that is not allowed was reported above; its entry is not looked into.
        if (!(inner.keyType as z.ZodType).safeParse(key).success) continue;
        const kept = walk(inner.valueType as z.ZodType, entry, [...at, key], report);
        ok &&= kept.ok;
        if (kept.value !== undefined) out[key] = kept.value;
    }
    return { ok, value: out };
}

function walkArray(schema: z.ZodType, inner: z.ZodArray, value: readonly unknown[], at: readonly PropertyKey[], report: Report): Kept {
    let ok = ownIssues(schema, value, at, report);
    const out = value.map((element, i) => {
        const kept = walk(inner.element as z.ZodType, element, [...at, i], report);
        ok &&= kept.ok;
        return kept.value;
    });
    return { ok, value: out };
}

function unwrap(schema: z.ZodType): z.ZodType {
    return schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodType) : schema;
}

/** Whether the part at `prefix` is incomplete: it, something inside it, or the part holding it failed its schema. */
export function failedWithin(failed: SalvageResult["failed"], prefix: readonly PropertyKey[]): boolean {
    return failed.some((p) => prefix.every((part, i) => p[i] === part) || (p.length < prefix.length && p.every((part, i) => prefix[i] === part)));
}
