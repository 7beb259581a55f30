/**
 * Which stacks a change touches: a stack file touches its own stack; the
 * program (its sources, dependencies, project file) touches every stack.
 * Pure, for the workflows (scripts/ci/affected-stacks.ts prints it).
 * `local` is the simulated device of a developer's machine: no runner has it.
 */
const PROGRAM = [/^index\.ts$/, /^(config|plan|components|rollout|preview|cli|bin)\//, /^Pulumi\.yaml$/, /^package(-lock)?\.json$/, /^tsconfig\.json$/];
const STACK_FILE = /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/;
export const CI_EXCLUDED_STACKS: readonly string[] = ["local"];

/** The stacks of the repository: its `Pulumi.<stack>.yaml` files, without the excluded ones. */
export function repositoryStacks(files: readonly string[]): string[] {
    return files
        .map((f) => STACK_FILE.exec(f)?.[1])
        .filter((s): s is string => s !== undefined && !CI_EXCLUDED_STACKS.includes(s))
        .sort();
}

export function affectedStacks(changed: readonly string[], stacks: readonly string[]): string[] {
    if (changed.some((f) => PROGRAM.some((p) => p.test(f)))) return [...stacks].sort();
    const touched = new Set(changed.map((f) => STACK_FILE.exec(f)?.[1]).filter((s): s is string => s !== undefined));
    return stacks.filter((s) => touched.has(s)).sort();
}
