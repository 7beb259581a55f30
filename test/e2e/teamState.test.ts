/**
 * Team state (issue "Fleet scale and deploy speed", item 2): a stack's state on
 * PostgreSQL through Pulumi's postgres:// backend, used from two working
 * directories of the project as two operators would. The server is Debian's
 * PostgreSQL started by sim/postgres.sh; the device is sim-edge-21.
 * Healthchecks are shortened through the stack settings.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, RunResult, SimDevice, TestStack, docker, inspectStack, localConfig, run, simDevice, stackFilter, waitFor } from "./support";

const STACK = "e2e-team";
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };
const CORE = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "self_monitor"];
const LOCKED = "the stack is currently locked by 1 lock(s)";

interface Postgres {
    readonly url: string;
    readonly user: string;
    readonly passwordFile: string;
    readonly host: string;
    readonly port: number;
    readonly database: string;
}

let pg: Postgres;
let password: string;
let device: SimDevice;
let stack: TestStack;
let values: Record<string, any>;
/** A second working directory of the project: what a second operator's checkout looks like to Pulumi. */
let otherCheckout: string;

const node = path.join(ROOT, "node_modules", ".bin", "node");
const health = () => Object.fromEntries(Object.entries(inspectStack(device, STACK)).map(([n, c]) => [n, c.State.Health?.Status ?? c.State.Status]));
const memoryMiB = (service: string) => Number(inspectStack(device, STACK)[service]?.HostConfig.Memory ?? 0) / 1024 / 1024;

function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ host: pg.host, port: pg.port, user: pg.user, password, database: pg.database });
    return c
        .connect()
        .then(() => c.query(sql, params))
        .then((r) => r.rows as T[])
        .finally(() => c.end());
}

const lockRows = () => query<{ key: string }>("SELECT key FROM pulumi_state WHERE key LIKE '%/.pulumi/locks/%'");

/** `pulumi up` of the test stack from a working directory, as `pulumi up --stack` is typed there. */
const upFrom = (cwd: string) => stack.upAsyncIn({ cwd });

beforeAll(async () => {
    pg = JSON.parse(execFileSync("bash", [path.join(ROOT, "sim", "postgres.sh"), "env"], { encoding: "utf8" })) as Postgres;
    password = fs.readFileSync(pg.passwordFile, "utf8").trim();
    // Every command of this file, and each TestStack call, uses the team
    // backend; the password comes from PGPASSWORD, as the README says.
    process.env.PULUMI_BACKEND_URL = pg.url;
    process.env.PGPASSWORD = password;
    device = simDevice("sim-edge-21");
    values = localConfig([device], "e2e-team");
    values.services = Object.fromEntries(CORE.map((s) => [s, { healthcheck: FAST }]));
    values.rollout = { healthTimeoutSeconds: 60 };
    // A state left in the shared database by an earlier run (perhaps killed,
    // perhaps encrypted under another machine's passphrase) is dropped, and
    // its containers with it, so every run starts from an empty stack.
    // A killed run also leaves its lock, which `stack rm` respects.
    run("pulumi", ["cancel", "--yes", "--stack", STACK, "--non-interactive"]);
    const rm = run("pulumi", ["stack", "rm", STACK, "--force", "--yes", "--non-interactive"]);
    if (rm.code !== 0 && !/no stack named/i.test(rm.stderr)) throw new Error(`pulumi stack rm ${STACK}: ${rm.stderr}`);
    stack = TestStack.create(STACK, values, device);
    await query("DELETE FROM pulumi_state_edge_fleet WHERE key LIKE $1", [`.edge-fleet/rollouts/${STACK}/%`]).catch(() => undefined);
    const left = docker(device, "ps", "-aq", "--filter", stackFilter(STACK)).split(/\s+/).filter(Boolean);
    if (left.length > 0) docker(device, "rm", "-f", ...left);
    const up = stack.up();
    if (up.code !== 0) throw new Error(`initial deploy failed:\n${up.stdout}\n${up.stderr}`);

    otherCheckout = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-checkout-"));
    for (const entry of fs.readdirSync(ROOT)) {
        if (entry === ".git" || /^Pulumi\..+\.yaml$/.test(entry)) continue;
        fs.symlinkSync(path.join(ROOT, entry), path.join(otherCheckout, entry));
    }
}, 15 * 60_000);

afterAll(() => {
    stack?.destroy();
    if (otherCheckout) fs.rmSync(otherCheckout, { recursive: true, force: true });
    delete process.env.PGPASSWORD;
});

describe("a stack's state on PostgreSQL", () => {
    it("keeps the state in the database, not in a file backend", async () => {
        const keys = (await query<{ key: string }>("SELECT key FROM pulumi_state WHERE key LIKE $1", [`%/.pulumi/stacks/%/${STACK}.json`])).map((r) => r.key);
        expect(keys).toHaveLength(1);
        expect(health()).toEqual(Object.fromEntries([...CORE, "watchtower"].map((s) => [s, "healthy"])));
    });

    it("lets one of two ups started at once from two working directories run, and refuses the other with the lock", async () => {
        values.services.tv_api = { ...values.services.tv_api, memoryMiB: 320 };
        stack.setConfig(values);
        // Pulumi's lock writes its row, then looks for others': two ups that
        // reach it within the same few milliseconds each see the other's and
        // both stop, changing nothing (about 1 pair in 25 here). Such a pair
        // is checked for that and started again.
        let results: RunResult[] = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
            results = await Promise.all([upFrom(ROOT).done, upFrom(otherCheckout).done]);
            if (results.some((r) => r.code === 0)) break;
            for (const r of results) expect(r.stdout + r.stderr).toContain(LOCKED);
            expect(await lockRows()).toEqual([]);
            expect(memoryMiB("tv_api")).not.toBe(320);
        }
        const ok = results.filter((r) => r.code === 0);
        const refused = results.filter((r) => r.code !== 0);
        expect(ok, results.map((r) => r.stdout + r.stderr).join("\n----\n")).toHaveLength(1);
        expect(refused).toHaveLength(1);
        const why = refused[0]!.stdout + refused[0]!.stderr;
        expect(why).toContain(LOCKED);
        expect(why).toMatch(/created by \S+@\S+ \(pid \d+\)/);
        expect(why).not.toContain(password);

        // State intact: no lock left, the change applied once, nothing more to do from either directory.
        expect(await lockRows()).toEqual([]);
        expect(memoryMiB("tv_api")).toBe(320);
        expect(health().tv_api).toBe("healthy");
        for (const cwd of [ROOT, otherCheckout]) {
            const p = run("pulumi", ["preview", "--stack", STACK, "--config-file", stack.configFile, "--non-interactive", "--expect-no-changes", "--suppress-progress"], undefined, { cwd });
            expect(p.code, p.stdout + p.stderr).toBe(0);
        }
    });

    it("refuses a rollout while an up holds the lock, without printing the database password", async () => {
        // The holder's up replaces tv_api and waits for it to be healthy: a
        // first check after 45 s keeps the lock held well past the time the
        // rollout needs to reach its own update, even on a loaded machine.
        values.services.tv_api = { ...values.services.tv_api, memoryMiB: 288, healthcheck: { ...FAST, intervalSeconds: 45, startPeriodSeconds: 60 } };
        stack.setConfig(values);
        const holder = upFrom(otherCheckout);
        const deadline = Date.now() + 60_000;
        while ((await lockRows()).length === 0) {
            if (Date.now() > deadline) throw new Error("the up never took its lock in the database");
            await new Promise((r) => setTimeout(r, 200));
        }
        // The rollout starts while the holder's new tv_api exists and is not
        // yet healthy: a container an up in progress created is not one a
        // killed run left behind, and must be left alone.
        const created = await waitFor("the holder's new tv_api", 90, () => memoryMiB("tv_api") === 288 && inspectStack(device, STACK).tv_api!.Id, 0.2);
        // The password in the URL this time, as a careless team might set it.
        const withPassword = pg.url.replace(`://${pg.user}@`, `://${pg.user}:${encodeURIComponent(password)}@`);
        const env = { ...process.env, PULUMI_BACKEND_URL: withPassword, PGPASSWORD: "" };
        const r = run(node, [path.join(ROOT, "bin", "edge-fleet.cjs"), "rollout", "--stack", STACK, "--config-file", stack.configFile, "--progress", "plain"], undefined, { env });
        const held = await holder.done;
        expect(held.code, held.stdout + held.stderr).toBe(0);
        expect(r.code).toBe(1);
        expect(r.stdout + r.stderr).toMatch(new RegExp(`stack ${STACK} is locked by a running deployment \\(pid \\d+ on \\S+\\)`));
        expect(r.stdout + r.stderr).not.toContain(password);
        expect(memoryMiB("tv_api")).toBe(288);
        expect(inspectStack(device, STACK).tv_api!.Id).toBe(created);
        values.services.tv_api = { ...values.services.tv_api, healthcheck: FAST };
    });

    it("keeps rollout records beside the state: another checkout on another machine reads them", async () => {
        values.release = { tag: "1.0.0", services: { tv_api: { tag: "1.1.0" } } };
        stack.setConfig(values);
        const r = run(node, [path.join(ROOT, "bin", "edge-fleet.cjs"), "rollout", "--stack", STACK, "--config-file", stack.configFile, "--json"]);
        expect(r.code, r.stderr).toBe(0);
        const record = JSON.parse(r.stdout) as { id: string; status: string };
        expect(record.status).toBe("succeeded");
        expect(inspectStack(device, STACK).tv_api.Config.Image).toMatch(/\/tv_api:1\.1\.0$/);

        // The record is a row of the database...
        const rows = await query<{ key: string }>("SELECT key FROM pulumi_state_edge_fleet WHERE key = $1", [`.edge-fleet/rollouts/${STACK}/${record.id}.json`]);
        expect(rows).toHaveLength(1);
        // ...and a second operator, with a working directory and a cache of
        // their own (nothing of this machine's files), lists it.
        const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "edge-fleet-other-cache-"));
        try {
            const status = run(node, [path.join(otherCheckout, "bin", "edge-fleet.cjs"), "rollout", "--status", "--json", "--stack", STACK], undefined, {
                cwd: otherCheckout,
                env: { ...process.env, EDGE_FLEET_CACHE: elsewhere, PULUMI_HOME: path.join(elsewhere, "pulumi-home") },
            });
            expect(status.code, status.stderr).toBe(0);
            const listed = JSON.parse(status.stdout) as { id: string; status: string; devices: Record<string, { status: string }> }[];
            expect(listed[0]).toMatchObject({ id: record.id, status: "succeeded", devices: { "sim-edge-21": { status: "healthy" } } });
            expect(fs.existsSync(path.join(elsewhere, "rollout-records"))).toBe(false);
        } finally {
            fs.rmSync(elsewhere, { recursive: true, force: true });
        }
    });
});
