/**
 * Sets a stack's two secrets from the environment, where the workflows put
 * GitHub's secrets: EDGE_FLEET_DEPLOY_KEY (sshPrivateKey) and
 * EDGE_FLEET_REGISTRY_TOKEN (registryToken). Values go to `pulumi config set
 * --secret` on stdin, never on a command line. The stack file of the
 * runner's checkout receives them encrypted; nothing is committed.
 *
 *   npx tsx scripts/ci/stack-secrets.ts --stack edge-jetson
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { applyProjectEnv } from "../../cli/env";

// The project's Pulumi CLI and settings, as every command of the project uses them.
applyProjectEnv();
const ROOT = path.resolve(__dirname, "..", "..");
const stack = process.argv[process.argv.indexOf("--stack") + 1];
if (!process.argv.includes("--stack") || !stack) throw new Error("usage: stack-secrets.ts --stack <stack>");

const SECRETS: readonly [string, string][] = [
    ["sshPrivateKey", "EDGE_FLEET_DEPLOY_KEY"],
    ["registryToken", "EDGE_FLEET_REGISTRY_TOKEN"],
];

for (const [key, env] of SECRETS) {
    const value = process.env[env];
    if (!value) throw new Error(`${env} is not set: add it to the repository's (or the environment's) secrets`);
    const r = spawnSync("pulumi", ["config", "set", "--secret", "--stack", stack, "--cwd", ROOT, `edge-fleet:${key}`], { input: value, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`pulumi config set ${key} failed: ${(r.stderr ?? "").trim().split("\n")[0]}`);
}
console.log(`stack ${stack}: sshPrivateKey and registryToken set from the environment`);
