/**
 * The order in which a device's containers are declared. Pure planning: the
 * component only follows it, so it is tested without Pulumi.
 */
import { ServiceName } from "../config/defaults";
import { ContainerSpec } from "./containerSpec";

/**
 * Seconds from a container's start to its first healthcheck on Debian's
 * engine (20.10), which ignores start_interval: one interval. A container
 * without a healthcheck counts as ready at once.
 */
export function firstCheckSeconds(s: ContainerSpec): number {
    return s.healthcheck?.intervalSeconds ?? 0;
}

/**
 * Dependencies first; the defaults table has no cycles, and a unit test keeps
 * it so. Otherwise the container whose first healthcheck comes latest goes
 * first: the engine starts creating resources in the order they are
 * declared, and a cold deploy is done when its slowest container is first
 * seen healthy (playlist_manager, 120 s after it starts), so every second it
 * starts later is a second more for the whole deploy. Declared in the seed's
 * order, it was the seventh of eight containers started on a cold Debian
 * device, about 0.3 s after the first. Ties keep the given order.
 */
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
    // Array sort is stable: equal first checks keep the given order.
    for (const s of [...specs].sort((a, b) => firstCheckSeconds(b) - firstCheckSeconds(a))) visit(s, []);
    return out;
}
