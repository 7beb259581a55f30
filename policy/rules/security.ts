/**
 * What a container may do to its device: never privileged, never gain
 * privileges through setuid binaries, and only the fleet's own agents see the
 * Docker socket (whoever holds it controls the device).
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import * as path from "node:path";
import { DOCKER_SOCKET } from "../../config/defaults";
import { CONTAINER, ContainerProps, describe, hostPaths, known, serviceOf } from "../props";

export const SOCKET_SERVICES: readonly string[] = ["watchtower", "self_monitor"];

export const noPrivileged: ResourceValidationPolicy = {
    name: "no-privileged-containers",
    description: "No container runs privileged.",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        const c = args.props as ContainerProps;
        if (known(() => c.privileged) === true) report(`${describe(c)} runs privileged; a privileged container owns the device`);
    },
};

export const noNewPrivileges: ResourceValidationPolicy = {
    name: "no-new-privileges",
    description: "Every container runs with the no-new-privileges security option.",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        const c = args.props as ContainerProps;
        const opts = known(() => c.securityOpts) ?? [];
        // Docker takes the option bare, with `:true` or with `=true`.
        if (!opts.some((o) => /^no-new-privileges(?:[:=]true)?$/.test(o))) {
            report(`${describe(c)} lacks the security option no-new-privileges:true (has: ${opts.length > 0 ? opts.join(", ") : "none"})`);
        }
    },
};

/**
 * A host path that exposes the Docker socket: the socket itself, either of
 * its usual paths, or a directory above it (mounting /var/run hands it over too).
 */
export function exposesDockerSocket(hostPath: string): boolean {
    const p = path.posix.normalize(hostPath).replace(/(.)\/$/, "$1");
    const sockets = [DOCKER_SOCKET, "/run/docker.sock"];
    return sockets.some((s) => s === p || s.startsWith(p === "/" ? "/" : `${p}/`)) || p.endsWith("/docker.sock");
}

export const dockerSocket: ResourceValidationPolicy = {
    name: "docker-socket-only-for-agents",
    description: `Only ${SOCKET_SERVICES.join(" and ")} mount the Docker socket.`,
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        const c = args.props as ContainerProps;
        if (SOCKET_SERVICES.includes(serviceOf(c))) return;
        for (const p of hostPaths(c).filter(exposesDockerSocket)) {
            report(`${describe(c)} mounts ${p}, which exposes the Docker socket; only ${SOCKET_SERVICES.join(" and ")} may`);
        }
    },
};
