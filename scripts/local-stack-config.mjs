// Writes the local stack's effective config file: Pulumi.local.yaml from the
// repo, plus what only this machine knows about its simulated device(s) and
// registry. Secrets are added afterwards with `pulumi config set --secret`,
// and the file's encryption salt is kept across runs so they stay readable.
//
// usage: node local-stack-config.mjs <repo Pulumi.local.yaml> <out file> <device-env.json>...
import fs from "node:fs";
import YAML from "yaml";

const [source, out, ...deviceEnvFiles] = process.argv.slice(2);
const doc = YAML.parse(fs.readFileSync(source, "utf8"));
const previous = fs.existsSync(out) ? YAML.parse(fs.readFileSync(out, "utf8")) ?? {} : {};
const sims = deviceEnvFiles.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
const bySimName = new Map(sims.map((s) => [s.name, s]));

const config = { ...doc.config };
const devices = config["edge-fleet:devices"] ?? [];
for (const d of devices) {
    const sim = bySimName.get(d.name);
    if (!sim) throw new Error(`Pulumi.local.yaml names device ${d.name}, but no simulated device of that name was started`);
    Object.assign(d, { host: sim.host, port: sim.port, user: sim.user, hostPublicKey: sim.hostPublicKey });
}
if (sims[0]) {
    const reg = sims[0].registry;
    config["edge-fleet:registry"] = { ...config["edge-fleet:registry"], server: reg.server, username: reg.username };
}
// Keep secrets set by earlier runs; `pulumi config set --secret` refreshes them.
for (const key of ["edge-fleet:sshPrivateKey", "edge-fleet:registryToken"]) {
    if (previous.config?.[key] !== undefined) config[key] = previous.config[key];
}
const result = { ...(previous.encryptionsalt ? { encryptionsalt: previous.encryptionsalt } : {}), config };
fs.writeFileSync(out, YAML.stringify(result, { lineWidth: 0 }), { mode: 0o600 });
