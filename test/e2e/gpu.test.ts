/**
 * The GPU hardware classes deployed for real. A jetson-class stack goes to a
 * device whose daemon registers a stand-in `nvidia` runtime, an x86-class
 * stack to a device whose daemon registers its NVIDIA GPU driver through a
 * stand-in prestart hook (sim/README.md, "GPU classes"). Both stand-ins
 * record what they were handed, outside the containers, so the checks below
 * see that scene_summarizer really went through the class's GPU path, not
 * only that its configuration names it. The two devices are independent and
 * deployed at once; healthchecks are shortened through the stack settings.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, RunResult, SimDevice, TRANSCRIPT, TestStack, inspectStack, localConfig, simDevice } from "./support";

const CORE = ["agent_dvr", "scene_scanner", "scene_summarizer", "logline_writer", "playlist_manager", "tv_api", "watchtower", "self_monitor"];
const FAST = { intervalSeconds: 2, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 5 };

/** What `sim/device.sh env` adds for a device with GPU stand-ins. */
interface GpuDevice extends SimDevice {
    readonly gpu: { readonly class: string; readonly runtimeRecord: string; readonly hookRecord: string };
}

interface Target {
    readonly hardwareClass: "jetson" | "x86";
    readonly deviceName: string;
    device?: GpuDevice;
    stack?: TestStack;
    values?: Record<string, any>;
    up?: RunResult;
}

const jetson: Target = { hardwareClass: "jetson", deviceName: "sim-edge-15" };
const x86: Target = { hardwareClass: "x86", deviceName: "sim-edge-16" };
const stackName = (t: Target) => `e2e-gpu-${t.hardwareClass}`;

/** One JSON object per line, as the stand-ins append them. */
function records(file: string): Record<string, any>[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, any>);
}

/** TestStack.up and .destroy, without blocking: the two devices are deployed and destroyed side by side. */
function pulumiAsync(command: "up" | "destroy", stack: TestStack): Promise<RunResult> {
    const t0 = Date.now();
    const args = [command, "--stack", stack.name, "--config-file", stack.configFile, "--non-interactive", "--yes", "--suppress-progress"];
    const child = spawn("pulumi", args, { cwd: ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    return new Promise((resolve) =>
        child.on("close", (code) => {
            fs.appendFileSync(TRANSCRIPT, `$ pulumi ${args.join(" ")}\n${stdout}\n${stderr}\n`);
            resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - t0) / 1000 });
        }),
    );
}

function prepare(t: Target): void {
    const device = simDevice(t.deviceName) as GpuDevice;
    if (device.gpu?.class !== t.hardwareClass) {
        throw new Error(`${t.deviceName} has GPU stand-ins '${device.gpu?.class}'; bring it up with: sim/device.sh up ${t.deviceName} --gpu ${t.hardwareClass}`);
    }
    const values = localConfig([device], "e2e-gpu");
    values.hardwareClass = t.hardwareClass;
    values.services = Object.fromEntries(CORE.filter((s) => s !== "watchtower").map((s) => [s, { healthcheck: FAST }]));
    const stack = TestStack.create(stackName(t), values, device);
    const down = stack.destroy();
    if (down.code !== 0) throw new Error(`destroy of an earlier ${stack.name} failed:\n${down.stdout}\n${down.stderr}`);
    Object.assign(t, { device, stack, values });
}

beforeAll(async () => {
    for (const t of [jetson, x86]) prepare(t);
    const [j, x] = await Promise.all([pulumiAsync("up", jetson.stack!), pulumiAsync("up", x86.stack!)]);
    jetson.up = j;
    x86.up = x;
}, 15 * 60_000);

afterAll(async () => {
    await Promise.all([jetson, x86].filter((t) => t.stack).map((t) => pulumiAsync("destroy", t.stack!)));
});

/** The stack's containers on its device, by service name, with every core service present. */
function deployed(t: Target): Record<string, any> {
    expect(t.up?.code, `${t.up?.stdout}\n${t.up?.stderr}`).toBe(0);
    const containers = inspectStack(t.device!, stackName(t));
    expect(Object.keys(containers).sort()).toEqual(expect.arrayContaining([...CORE].sort()));
    return containers;
}

function expectHealthy(c: any): void {
    expect(c.State.Status).toBe("running");
    expect(c.State.Health.Status).toBe("healthy");
    expect(c.RestartCount).toBe(0);
}

/** Neither a runtime of its own nor a device request. */
function expectNoGpu(name: string, c: any): void {
    expect(c.HostConfig.Runtime, name).toBe("runc");
    expect(c.HostConfig.DeviceRequests ?? [], name).toEqual([]);
}

describe("a jetson-class stack", () => {
    it("runs scene_summarizer through the nvidia runtime, healthy, and nothing else through it", () => {
        const containers = deployed(jetson);
        const summarizer = containers.scene_summarizer;
        expect(summarizer.HostConfig.Runtime).toBe("nvidia");
        expect(summarizer.HostConfig.DeviceRequests ?? []).toEqual([]);
        expectHealthy(summarizer);

        // The runtime was invoked to create and start this very container,
        // from the bundle of this container.
        const ran = records(jetson.device!.gpu.runtimeRecord).filter((r) => r.id === summarizer.Id);
        expect(ran.map((r) => r.command)).toEqual(expect.arrayContaining(["create", "start"]));
        const created = ran.find((r) => r.command === "create")!;
        expect(created.bundle).toMatch(new RegExp(`/${summarizer.Id}$`));
        expect(created.args).toContain("create");

        const others = Object.entries(containers).filter(([n]) => n !== "scene_summarizer");
        expect(others.length).toBeGreaterThanOrEqual(CORE.length - 1);
        const otherIds = new Set(others.map(([, c]) => c.Id));
        for (const [n, c] of others) expectNoGpu(n, c);
        expect(records(jetson.device!.gpu.runtimeRecord).filter((r) => otherIds.has(r.id))).toEqual([]);
    });
});

describe("an x86-class stack", () => {
    it("gives scene_summarizer the GPU device request (--gpus all), served by the nvidia driver's hook, healthy", () => {
        const containers = deployed(x86);
        const summarizer = containers.scene_summarizer;
        // README: x86 means a device request like `--gpus all`: every GPU
        // (count -1) with capability "gpu". Like the docker CLI, it need not
        // name a driver; the daemon hands it to the driver with that
        // capability, and only the nvidia driver adds the hook seen below.
        const requests = (summarizer.HostConfig.DeviceRequests ?? []) as any[];
        expect(requests).toHaveLength(1);
        expect(requests[0]).toMatchObject({ Count: -1, Capabilities: [["gpu"]] });
        expect(["", "nvidia"]).toContain(requests[0].Driver);
        expect(requests[0].DeviceIDs ?? []).toEqual([]);
        expect(summarizer.HostConfig.Runtime).toBe("runc");
        expectHealthy(summarizer);

        // runc called the nvidia driver's prestart hook for this container:
        // the arguments the driver sets, the container's OCI state on stdin,
        // and every GPU in the container's environment.
        const called = records(x86.device!.gpu.hookRecord).filter((r) => r.id === summarizer.Id);
        expect(called.length).toBeGreaterThanOrEqual(1);
        for (const r of called) {
            expect(r.args).toEqual(["prestart"]);
            expect(r.state.bundle).toMatch(new RegExp(`/${summarizer.Id}$`));
            expect(r.prestartHooks).toContainEqual(expect.objectContaining({ args: ["nvidia-container-runtime-hook", "prestart"] }));
            expect(r.specEnv).toContain("NVIDIA_VISIBLE_DEVICES=all");
        }

        const others = Object.entries(containers).filter(([n]) => n !== "scene_summarizer");
        expect(others.length).toBeGreaterThanOrEqual(CORE.length - 1);
        const otherIds = new Set(others.map(([, c]) => c.Id));
        for (const [n, c] of others) expectNoGpu(n, c);
        expect(records(x86.device!.gpu.hookRecord).filter((r) => otherIds.has(r.id))).toEqual([]);
    });
});
