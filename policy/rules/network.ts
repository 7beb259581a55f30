/**
 * What reaches a device and what the device exposes: each device's docker
 * provider talks SSH to a pinned host key with strict checking, and
 * containers publish only the allowed host ports.
 */
import { ResourceValidationPolicy } from "@pulumi/policy";
import { CONTAINER, ContainerProps, DOCKER_PROVIDER, ProviderProps, describe, known, listInput } from "../props";
import { RuleContext } from "../settings";

export function publishedPorts(ctx: RuleContext): ResourceValidationPolicy {
    return {
        name: "published-ports-allowlist",
        description: "Containers publish only the allowed host ports (edge-fleet-policy:allowedPorts; default 8000 and 3000).",
        validateResource: (args, report) => {
            if (args.type !== CONTAINER) return;
            const c = args.props as ContainerProps;
            const allowed = ctx.settings().allowedPorts;
            // Host networking publishes every port the process opens.
            if (known(() => c.networkMode) === "host") report(`${describe(c)} uses the host's network, which publishes every port it opens`);
            for (const p of known(() => c.ports) ?? []) {
                // Without an external port Docker picks a random host port.
                const external = known(() => p.external);
                if (external === undefined || !allowed.includes(external)) {
                    report(`${describe(c)} publishes host port ${external ?? "(random)"}; allowed: ${allowed.join(", ") || "none"}`);
                }
            }
        },
    };
}

/** `-o Key=Value`, `-oKey=Value` and `-o "Key Value"` pairs of an ssh command line, keys lower-cased. */
export function sshOptions(args: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        const opt = a === "-o" ? args[++i] : a.startsWith("-o") ? a.slice(2) : undefined;
        const m = opt === undefined ? null : /^\s*(\w+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(opt);
        // ssh keeps the first value given for an option.
        if (m && !out.has(m[1]!.toLowerCase())) out.set(m[1]!.toLowerCase(), m[2]!);
    }
    return out;
}

export const pinnedHostKey: ResourceValidationPolicy = {
    name: "pinned-host-key",
    description: "Every device is reached over SSH with strict host key checking against its own pinned key only.",
    validateResource: (args, report) => {
        if (args.type !== DOCKER_PROVIDER) return;
        const p = args.props as ProviderProps;
        const host = known(() => p.host);
        const who = `the connection ${args.name}`;
        if (typeof host !== "string" || !host.startsWith("ssh://")) {
            report(`${who} reaches ${host ?? "the local daemon"}, not a device over ssh://`);
            return;
        }
        const raw = known(() => p.sshOpts);
        if (raw === undefined) return; // judged when known, at the update
        const o = sshOptions(listInput(raw) ?? []);
        const problems: string[] = [];
        if (o.get("stricthostkeychecking")?.toLowerCase() !== "yes") problems.push(`StrictHostKeyChecking is ${o.get("stricthostkeychecking") ?? "unset"}, not yes`);
        const userFile = o.get("userknownhostsfile");
        if (!userFile || userFile === "/dev/null") problems.push("no UserKnownHostsFile holds the pinned key");
        // Any other known_hosts would let a key trusted elsewhere stand in for the pinned one.
        if (o.get("globalknownhostsfile") !== "/dev/null") problems.push("GlobalKnownHostsFile is not /dev/null");
        if (problems.length > 0) report(`${who} to ${host} does not pin the device's host key: ${problems.join("; ")}`);
    },
};
