// Writes the bench stack's config file: the values of the repository's
// Pulumi.local.yaml, deploying to one simulated device (the bench's own) with
// its storage under STORAGE_ROOT. Secrets are set afterwards with
// `pulumi config set --secret`, as for the local stack.
//
// usage: node stack-config.mjs <repo Pulumi.local.yaml> <out file> <device-env.json> <storage root>
import fs from "node:fs";
import YAML from "yaml";

const [source, out, deviceEnvFile, storageRoot] = process.argv.slice(2);
if (!storageRoot) throw new Error("usage: stack-config.mjs <Pulumi.local.yaml> <out file> <device-env.json> <storage root>");
const doc = YAML.parse(fs.readFileSync(source, "utf8"));
const sim = JSON.parse(fs.readFileSync(deviceEnvFile, "utf8"));

const config = { ...doc.config };
config["edge-fleet:devices"] = [
    { name: sim.name, host: sim.host, port: sim.port, user: sim.user, hostPublicKey: sim.hostPublicKey, videoStorageRoot: storageRoot },
];
config["edge-fleet:registry"] = { ...config["edge-fleet:registry"], server: sim.registry.server, username: sim.registry.username };
fs.writeFileSync(out, YAML.stringify({ config }, { lineWidth: 0 }), { mode: 0o600 });
