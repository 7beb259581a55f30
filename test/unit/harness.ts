/**
 * Runs index.ts under Pulumi's mocks with the values of a stack file, and
 * records every resource the program registers.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { PROJECT, projectKey, projectValues } from "../../config/keys";

export const ROOT = path.resolve(__dirname, "..", "..");
export const TEST_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n";
export const TEST_REGISTRY_TOKEN = "ghp_unitTestTokenThatMustNeverLeak0123";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly provider?: string;
}

/** A host key for devices whose real key only the deploying machine knows (the local stack's). */
export const TEST_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHVuaXQtdGVzdC1ob3N0LWtleS1ub3QtcmVhbC0wMQ";

export function stackConfig(stackFile: string): Record<string, unknown> {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, stackFile), "utf8")) as { config: Record<string, unknown> };
    const out = projectValues(doc.config);
    for (const d of (out.devices ?? []) as Record<string, unknown>[]) d.hostPublicKey ??= TEST_HOST_KEY;
    return out;
}

/** Pulumi passes config as strings; structured values as JSON text. */
export function toPulumiConfig(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(
        Object.entries(values).map(([k, v]) => [projectKey(k), typeof v === "string" ? v : JSON.stringify(v)]),
    );
}

export interface ProgramRun {
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, unknown>;
    readonly module: Record<string, pulumi.Output<unknown>>;
}

export async function runProgram(
    values: Record<string, unknown>,
    opts: { stack?: string; secrets?: boolean; record?: RecordedResource[]; extraSecretKeys?: readonly string[] } = {},
): Promise<ProgramRun> {
    // Callers that expect the program to throw pass their own list to inspect afterwards.
    const resources: RecordedResource[] = opts.record ?? [];
    process.env.EDGE_FLEET_SSH_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-ssh-"));
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = args.inputs;
                resources.push({ type: args.type, name: args.name, inputs, provider: args.provider });
                const state: Record<string, unknown> = { ...inputs };
                if (args.type === "docker:index/remoteImage:RemoteImage") {
                    state.repoDigest = `${String(inputs.name).replace(/[:@].*$/, "")}@sha256:${"ab".repeat(32)}`;
                }
                return { id: `${args.name}-id`, state };
            },
            call: () => ({}),
        },
        PROJECT,
        opts.stack ?? "unit",
        true,
    );
    const all = { sshPrivateKey: TEST_PRIVATE_KEY, registryToken: TEST_REGISTRY_TOKEN, ...values };
    const secretKeys = opts.secrets === false ? [] : ["sshPrivateKey", "registryToken", ...(opts.extraSecretKeys ?? [])];
    pulumi.runtime.setAllConfig(toPulumiConfig(all), secretKeys.map((k) => projectKey(k)));
    // The program turns stack traces off for its own process (program/runtime.ts); the tests keep theirs.
    const depth = Error.stackTraceLimit;
    let module: Record<string, pulumi.Output<unknown>>;
    try {
        module = (await import(path.join(ROOT, "index.ts"))) as Record<string, pulumi.Output<unknown>>;
    } finally {
        Error.stackTraceLimit = depth;
    }
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(module)) outputs[k] = pulumi.Output.isInstance(v) ? await promiseOf(v) : v;
    // Components register their outputs after those resolve; let that finish
    // under these mocks, before the next test installs its own.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return { resources, outputs, module };
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

export const byType = (rs: RecordedResource[], type: string) => rs.filter((r) => r.type === type);
export const CONTAINER = "docker:index/container:Container";

// How the SDK marks a secret value on the wire (and so in the state file).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;

/** Everything that is not under a secret marker, as text. */
export function plainParts(v: unknown): string {
    if (isSecret(v)) return "";
    if (Array.isArray(v)) return v.map(plainParts).join("\n");
    if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${k}=${plainParts(x)}`).join("\n");
    return String(v);
}
