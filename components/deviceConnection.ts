import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface DeviceConnectionArgs {
    readonly stack: string;
    readonly deviceName: string;
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** `<type> <base64>`; the only key this connection will accept from the device. */
    readonly hostPublicKey: string;
    readonly sshPrivateKey: pulumi.Input<string>;
    readonly registryServer: string;
    readonly registryUsername: string;
    readonly registryToken: pulumi.Input<string>;
}

/** Where ssh finds the deploy key and pinned host key; outside the repo and per stack. */
export function sshMaterialDir(stack: string, deviceName: string): string {
    const base = process.env.EDGE_FLEET_SSH_DIR ?? path.join(os.homedir(), ".edge-fleet", "ssh");
    return path.join(base, stack, deviceName);
}

export function knownHostsLine(host: string, port: number, hostPublicKey: string): string {
    return `${port === 22 ? host : `[${host}]:${port}`} ${hostPublicKey}`;
}

/**
 * Options for the `ssh` that Docker runs to reach the device. Host-key
 * checking is strict and against the pinned key only: no global or user
 * known_hosts, no trust on first use.
 */
export function sshOptions(dir: string): string[] {
    return [
        "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes",
        "-i", path.join(dir, "id_deploy"),
        "-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`,
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "ConnectTimeout=10",
        "-o", "ServerAliveInterval=15",
    ];
}

/**
 * The type token matches the class name. Stacks deployed before the rename
 * hold this component under its old token; the alias keeps those resources
 * (and the provider and containers beneath them) instead of replacing them.
 */
export const DEVICE_CONNECTION_TYPE = "edge-fleet:device:DeviceConnection";
export const DEVICE_CONNECTION_PREVIOUS_TYPE = "edge-fleet:device:Connection";

/**
 * The Docker provider of one device, over SSH. The private key must exist as
 * a file for ssh; it is written with mode 0600 outside the work tree at a
 * stable path, so provider inputs do not change from run to run.
 */
export class DeviceConnection extends pulumi.ComponentResource {
    readonly provider: docker.Provider;
    readonly dockerHost: string;

    constructor(name: string, args: DeviceConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(DEVICE_CONNECTION_TYPE, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: DEVICE_CONNECTION_PREVIOUS_TYPE }] });
        const dir = sshMaterialDir(args.stack, args.deviceName);
        // Writing the key is a local side effect, not a resource: it must
        // happen before the provider dials the device, in preview too.
        const materialDir = pulumi.output(args.sshPrivateKey).apply((key) => {
            fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
            fs.writeFileSync(path.join(dir, "id_deploy"), key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
            fs.chmodSync(path.join(dir, "id_deploy"), 0o600);
            fs.writeFileSync(path.join(dir, "known_hosts"), `${knownHostsLine(args.host, args.port, args.hostPublicKey)}\n`, { mode: 0o600 });
            return dir;
        });
        // An IPv6 address goes in brackets in a URL.
        this.dockerHost = `ssh://${args.user}@${args.host.includes(":") ? `[${args.host}]` : args.host}:${args.port}`;
        this.provider = new docker.Provider(
            `${name}-docker`,
            {
                host: this.dockerHost,
                // The path is not sensitive; only its dependency on the key is needed.
                sshOpts: pulumi.unsecret(materialDir.apply(sshOptions)),
                registryAuth: [{ address: args.registryServer, username: args.registryUsername, password: pulumi.secret(args.registryToken) }],
            },
            { parent: this },
        );
        this.registerOutputs({ dockerHost: this.dockerHost });
    }
}
