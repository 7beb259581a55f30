import { describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FileKeyStore, openKeyStore, parseBackendUrl, redactBackendUrl, scrubBackendSecret } from "../../backend";

describe("parseBackendUrl", () => {
    it("reads a file backend's directory, ~ being the home directory", () => {
        expect(parseBackendUrl("file:///var/state")).toEqual({ kind: "file", dir: "/var/state" });
        expect(parseBackendUrl("file://~/.pulumi-state", "/home/op")).toEqual({ kind: "file", dir: "/home/op/.pulumi-state" });
    });

    it("reads a postgres:// URL: Pulumi's table parameter is taken out of what a client connects with", () => {
        expect(parseBackendUrl("postgres://edge@db.example:5432/fleet?sslmode=require&table=fleet_state")).toEqual({
            kind: "postgres",
            connection: "postgres://edge@db.example:5432/fleet?sslmode=require",
            table: "fleet_state",
            recordsTable: "fleet_state_edge_fleet",
        });
        expect(parseBackendUrl("postgres://edge@db.example/fleet")).toMatchObject({ kind: "postgres", table: "pulumi_state", recordsTable: "pulumi_state_edge_fleet" });
    });

    it("refuses a table name that would have to be quoted in SQL, naming the value and what is allowed", () => {
        expect(() => parseBackendUrl("postgres://edge@db/fleet?table=state;drop")).toThrow(
            'PULUMI_BACKEND_URL: table="state;drop" is not allowed; use lower-case letters, digits and _ (at most 52), starting with a letter or _',
        );
    });

    it("leaves other backends to Pulumi", () => {
        expect(parseBackendUrl("s3://bucket/fleet")).toEqual({ kind: "other", scheme: "s3" });
        expect(parseBackendUrl("https://api.pulumi.com")).toEqual({ kind: "other", scheme: "https" });
    });
});

describe("backend passwords in messages", () => {
    const url = "postgres://edge:s3cr%40t-pw@db.example:5432/fleet?sslmode=disable";

    it("are masked in the URL", () => {
        expect(redactBackendUrl(url)).toBe("postgres://edge:***@db.example:5432/fleet?sslmode=disable");
        expect(redactBackendUrl("postgres://edge@db/fleet")).toBe("postgres://edge@db/fleet");
    });

    it("are masked anywhere in a text, encoded or decoded", () => {
        const lockError = `the stack is currently locked by 1 lock(s).\n  ${url}/.pulumi/locks/x.json: created by root@ci (pid 1) at now; password s3cr@t-pw`;
        const out = scrubBackendSecret(lockError, url);
        expect(out).not.toContain("s3cr");
        expect(out).toContain("postgres://edge:***@db.example:5432/fleet");
        expect(scrubBackendSecret("nothing to hide", "postgres://edge@db/fleet")).toBe("nothing to hide");
    });

    it("never show in a refused URL", () => {
        let message = "";
        try {
            parseBackendUrl("postgres://edge:hunter2@db/fleet?table=Bad-Name");
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toContain("table=");
        expect(message).not.toContain("hunter2");
    });
});

describe("openKeyStore", () => {
    it("keeps values in the file backend's directory, shared", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keys-"));
        const store = openKeyStore(`file://${dir}`, "/unused");
        expect(store).toBeInstanceOf(FileKeyStore);
        expect(store.shared).toBe(true);
        await store.put(".edge-fleet/rollouts/s/a.json", "{}\n");
        expect(fs.readFileSync(path.join(dir, ".edge-fleet", "rollouts", "s", "a.json"), "utf8")).toBe("{}\n");
        expect(await store.list(".edge-fleet/rollouts/s/")).toEqual([".edge-fleet/rollouts/s/a.json"]);
        expect(await store.get(".edge-fleet/rollouts/s/missing.json")).toBeUndefined();
    });

    it("keeps values in this machine's cache, not shared, for a backend it cannot write beside", () => {
        const store = openKeyStore("s3://bucket", "/cache");
        expect(store.shared).toBe(false);
        expect(store.where).toBe(path.join("/cache", "rollout-records"));
    });

    it("refuses keys that climb out of the directory", async () => {
        await expect(new FileKeyStore("/tmp/x", true).get("../../etc/passwd")).rejects.toThrow('invalid key "../../etc/passwd"');
    });
});
