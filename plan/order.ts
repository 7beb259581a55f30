/**
 * The order in which a device's containers are declared. Pure planning: the
 * component only follows it, so it is tested without Pulumi.
 */
import { ServiceName } from "../config/defaults";
import { ContainerSpec } from "./containerSpec";

/** Dependencies first; the defaults table has no cycles, and a unit test keeps it so. */
export function orderByDependencies(specs: readonly ContainerSpec[]): ContainerSpec[] {
    const byName = new Map(specs.map((s) => [s.service, s]));
    const done = new Set<ServiceName>();
    const out: ContainerSpec[] = [];
    const visit = (s: ContainerSpec, trail: ServiceName[]) => {
        if (done.has(s.service)) return;
        if (trail.includes(s.service)) throw new Error(`dependency cycle: ${[...trail, s.service].join(" -> ")}`);
        for (const d of s.dependsOn) visit(byName.get(d)!, [...trail, s.service]);
        done.add(s.service);
        out.push(s);
    };
    for (const s of specs) visit(s, []);
    return out;
}
