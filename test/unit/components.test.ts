import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DeviceConnection } from "../../components/deviceConnection";
import { PROJECT } from "../../config/keys";
import { TEST_HOST_KEY, TEST_PRIVATE_KEY, promiseOf } from "./harness";

describe("DeviceConnection", () => {
    it("is typed after its class and aliased to its previous type, so existing stacks keep it", async () => {
        process.env.EDGE_FLEET_SSH_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-ssh-"));
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, PROJECT, "unit", true);
        const seen: pulumi.ResourceTransformationArgs[] = [];
        const conn = new DeviceConnection(
            "dev-01",
            {
                stack: "unit",
                deviceName: "dev-01",
                host: "10.1.0.5",
                port: 22,
                user: "edge",
                hostPublicKey: TEST_HOST_KEY,
                sshPrivateKey: TEST_PRIVATE_KEY,
                registryServer: "ghcr.io",
                registryUsername: "u",
                registryToken: "t",
            },
            // Transformations see the options each resource is registered with.
            { transformations: [(a) => (seen.push(a), undefined)] },
        );
        expect(await promiseOf(conn.urn)).toBe("urn:pulumi:unit::edge-fleet::edge-fleet:device:DeviceConnection::dev-01");
        const self = seen.find((a) => a.resource === conn)!;
        expect(self.type).toBe("edge-fleet:device:DeviceConnection");
        expect(self.opts.aliases).toEqual([{ type: "edge-fleet:device:Connection" }]);
    });
});
