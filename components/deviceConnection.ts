import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { writeDeviceKey } from "../ssh/keyFiles";
import { openMaster, sharingOptions } from "../ssh/master";

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

export function knownHostsLine(host: string, port: number, hostPublicKey: string): string {
    return `${port === 22 ? host : `[${host}]:${port}`} ${hostPublicKey}`;
}

/**
 * Options for the `ssh` that Docker runs to reach the device. Host-key
 * checking is strict and against the pinned key only: no global or user
 * known_hosts, no trust on first use. `-F none` first: a `Host *` block in
 * the operator's ~/.ssh/config or /etc/ssh/ssh_config (a ProxyCommand, a
 * KnownHostsCommand, a weaker StrictHostKeyChecking) must not apply.
 */
export function sshOptions(dir: string): string[] {
    return [...connectionOptions(dir), ...sharingOptions(dir)];
}

/** The options of one connection of its own; ssh takes the first value given, so sharing comes after. */
function connectionOptions(dir: string): string[] {
    return [
        "-F", "none",
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
 * a file for ssh; it is written with mode 0600 in a private directory at a
 * stable path, so provider inputs do not change from run to run, and removed
 * when the Pulumi run ends (ssh/keyFiles.ts).
 */
export class DeviceConnection extends pulumi.ComponentResource {
    readonly provider: docker.Provider;
    readonly dockerHost: string;

    constructor(name: string, args: DeviceConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(DEVICE_CONNECTION_TYPE, name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: DEVICE_CONNECTION_PREVIOUS_TYPE }] });
        // Writing the key is a local side effect, not a resource: it must
        // happen before the provider dials the device, in preview too.
        const materialDir = pulumi.output(args.sshPrivateKey).apply((key) => {
            const dir = writeDeviceKey(args.stack, args.deviceName, key, knownHostsLine(args.host, args.port, args.hostPublicKey));
            // In the background: the provider waits for it before its first
            // call to the device, so its first burst of connections shares
            // it. A preview only dials devices it refreshes, so the program
            // does not stay alive for it (ssh/master.ts).
            openMaster(connectionOptions(dir), dir, `${args.user}@${args.host}`, args.port, !pulumi.runtime.isDryRun());
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
