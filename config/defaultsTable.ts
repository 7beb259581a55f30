/**
 * Renders SERVICE_DEFAULTS as the Markdown table in the README. A unit test
 * checks the README against it, so the documented defaults cannot drift.
 */
import { NETWORK_NAMES, SERVICE_DEFAULTS, SERVICE_NAMES } from "./defaults";

export function serviceDefaultsTable(): string {
    const header = [
        "| service | image | memory (MiB) | CPUs | restart | healthcheck | mounts | networks | ports | capabilities added | root fs | tmpfs | pids limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    const rows = SERVICE_NAMES.map((n) => {
        const d = SERVICE_DEFAULTS[n];
        const hc = d.healthcheck
            ? `\`${d.healthcheck.test.slice(1).join(" ")}\` every ${d.healthcheck.intervalSeconds}s, timeout ${d.healthcheck.timeoutSeconds}s, ${d.healthcheck.retries} retries, start period ${d.healthcheck.startPeriodSeconds}s`
            : "-";
        const restart = d.restart === "on-failure" ? `on-failure:${d.maxRetryCount}` : d.restart;
        const mounts =
            [
                ...d.storageMounts.map((m) => `${m.subdir}/ → ${m.containerPath}${m.readOnly ? " (ro)" : ""}`),
                ...d.namedVolumes.map((v) => `volume ${v.volume} → ${v.containerPath}`),
                ...(d.mountsDockerSocket ? ["docker.sock"] : []),
            ].join("<br>") || "-";
        const networks = d.networks.map((x) => NETWORK_NAMES[x]).join(", ");
        const ports = d.ports.map((p) => `${d.publishAddress}:${p.external}→${p.internal}`).join(", ") || "-";
        const caps = d.capAdd.map((c) => `\`${c}\``).join("<br>") || "none";
        const tmpfs = d.tmpfs.map((t) => `${t.containerPath} (${t.sizeMiB} MiB)`).join("<br>") || "-";
        const gpu = d.usesGpu ? " (GPU)" : "";
        return `| ${n}${d.optional ? " (optional)" : ""}${gpu} | \`${n}\` | ${d.memoryMiB} | ${d.cpus} | ${restart} | ${hc} | ${mounts} | ${networks} | ${ports} | ${caps} | ${d.readOnlyRootFilesystem ? "read-only" : "writable"} | ${tmpfs} | ${d.pidsLimit} |`;
    });
    return [...header, ...rows].join("\n");
}
