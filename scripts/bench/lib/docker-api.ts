/**
 * The few Docker Engine API calls a bench makes on a device's own socket:
 * polling health, resetting the device, inspecting what a deploy made. These
 * are the bench's own observations, the same for every tool and not part of
 * any figure, so they go straight to the socket (no ssh, no docker CLI
 * process forked once a second). A client library would bring ssh, TLS and
 * stream handling that this does not need; four GET/POST/DELETE calls do.
 */
import * as http from "node:http";

export class DockerApi {
    constructor(private readonly socketPath: string) {}

    /** `unix:///path` (a device's dockerHost) or a plain path. */
    static fromHost(dockerHost: string): DockerApi {
        return new DockerApi(dockerHost.replace(/^unix:\/\//, ""));
    }

    private request(method: string, path: string): Promise<unknown> {
        return new Promise((resolve, reject) => {
            const req = http.request({ socketPath: this.socketPath, path, method, timeout: 30_000 }, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => (body += chunk));
                res.on("end", () => {
                    const status = res.statusCode ?? 0;
                    if (status >= 400) return reject(new Error(`docker ${method} ${path}: ${status} ${body.trim()}`));
                    resolve(body ? JSON.parse(body) : null);
                });
            });
            req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path}: timed out`)));
            req.on("error", reject);
            req.end();
        });
    }

    private static filters(f: Record<string, string[]>): string {
        return encodeURIComponent(JSON.stringify(f));
    }

    /** Containers (running or not) that carry a label, e.g. `edge-fleet.stack=bench`. */
    async containers(label?: string): Promise<ContainerSummary[]> {
        const q = label ? `&filters=${DockerApi.filters({ label: [label] })}` : "";
        return (await this.request("GET", `/containers/json?all=1${q}`)) as ContainerSummary[];
    }

    async inspect(id: string): Promise<ContainerInspect> {
        return (await this.request("GET", `/containers/${encodeURIComponent(id)}/json`)) as ContainerInspect;
    }

    /** As `docker rm -f`: anonymous volumes are kept. */
    async removeContainer(id: string): Promise<void> {
        await this.request("DELETE", `/containers/${encodeURIComponent(id)}?force=1`);
    }

    async networks(label: string): Promise<{ Id: string; Name: string }[]> {
        return (await this.request("GET", `/networks?filters=${DockerApi.filters({ label: [label] })}`)) as { Id: string; Name: string }[];
    }

    async removeNetwork(id: string): Promise<void> {
        await this.request("DELETE", `/networks/${encodeURIComponent(id)}`);
    }

    /** As `docker image prune --all --force`: every image no container uses. */
    async pruneImages(): Promise<void> {
        await this.request("POST", `/images/prune?filters=${DockerApi.filters({ dangling: ["false"] })}`);
    }

    async version(): Promise<{ Version: string; ApiVersion: string }> {
        return (await this.request("GET", "/version")) as { Version: string; ApiVersion: string };
    }
}

export interface ContainerSummary {
    readonly Id: string;
    readonly Names: readonly string[];
    readonly Labels: Readonly<Record<string, string>>;
    readonly State: string;
    /** e.g. "Up 3 minutes (healthy)". */
    readonly Status: string;
}

/** The parts of `docker inspect` a bench compares; the API returns more. */
export interface ContainerInspect {
    readonly Id: string;
    readonly Name: string;
    readonly Config: {
        Image: string;
        Cmd: string[] | null;
        Env: string[] | null;
        Labels: Record<string, string> | null;
        Healthcheck?: unknown;
        StopTimeout?: number;
    };
    readonly HostConfig: {
        Memory: number;
        MemorySwap: number;
        NanoCpus: number;
        RestartPolicy: unknown;
        LogConfig: unknown;
        SecurityOpt: string[] | null;
        Privileged: boolean;
        Runtime: string;
        PortBindings: Record<string, unknown> | null;
    };
    readonly Mounts: { Type: string; Source: string; Destination: string; RW: boolean }[];
    readonly NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
    readonly State: { Health?: { Status: string } };
}
