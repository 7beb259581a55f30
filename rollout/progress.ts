/**
 * What a person watching a rollout sees: on a terminal, a live view per wave
 * and device (log-update redraws it in place); otherwise (CI, a pipe) one
 * plain line per change. The final table and `--json` are the CLI's.
 */
import { createLogUpdate } from "log-update";
import { DeviceRecord } from "./records";

export interface Progress {
    log(message: string): void;
    wave(index: number, devices: readonly string[], canary: boolean): void;
    device(name: string, r: DeviceRecord): void;
    health(name: string, healthy: number, total: number, phase: "waiting" | "soaking"): void;
    stop(): void;
}

interface Row {
    status: string;
    detail: string;
    since: number;
}

const ICON: Record<string, string> = {
    waiting: "·", deploying: "↻", gating: "♥", healthy: "✔", unchanged: "✔", failed: "✘",
    "rolling back": "↺", "rolled back": "↺", "rollback failed": "✘", unreachable: "?",
};

function describe(r: DeviceRecord): string {
    if (r.status === "unreachable" || r.status === "failed" || r.status === "rollback failed") return r.reason ?? "";
    return "";
}

/** One line per change, for logs. */
export class PlainProgress implements Progress {
    private readonly lastHealth = new Map<string, string>();
    constructor(private readonly out: NodeJS.WritableStream) {}
    private line(s: string) {
        this.out.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
    }
    log(m: string) { this.line(m); }
    wave(i: number, devices: readonly string[], canary: boolean) { this.line(`wave ${i}${canary ? " (canary)" : ""}: ${devices.join(", ")}`); }
    device(name: string, r: DeviceRecord) { this.line(`${name}: ${r.status}${describe(r) ? ` (${describe(r)})` : ""}`); }
    health(name: string, healthy: number, total: number, phase: string) {
        const key = `${phase} ${healthy}/${total}`;
        if (this.lastHealth.get(name) === key) return;
        this.lastHealth.set(name, key);
        this.line(`${name}: ${phase === "soaking" ? "soaking" : "waiting for health"}, ${healthy}/${total} healthy`);
    }
    stop() {}
}

/** The live view, redrawn in place twice a second. */
export class LiveProgress implements Progress {
    private readonly waves: { title: string; devices: readonly string[] }[] = [];
    private readonly rows = new Map<string, Row>();
    private readonly messages: string[] = [];
    private readonly draw: ReturnType<typeof createLogUpdate>;
    private readonly timer: NodeJS.Timeout;

    constructor(out: NodeJS.WriteStream) {
        this.draw = createLogUpdate(out);
        this.timer = setInterval(() => this.render(), 500);
    }

    log(m: string) { this.messages.push(m); this.render(); }
    wave(i: number, devices: readonly string[], canary: boolean) {
        if (this.waves[i]) return;
        this.waves[i] = { title: `wave ${i}${canary ? " (canary)" : ""}`, devices };
        for (const d of devices) if (!this.rows.has(d)) this.rows.set(d, { status: "waiting", detail: "", since: Date.now() });
        this.render();
    }
    device(name: string, r: DeviceRecord) {
        const prev = this.rows.get(name);
        this.rows.set(name, { status: r.status, detail: describe(r), since: prev?.status === r.status ? prev.since : Date.now() });
        this.render();
    }
    health(name: string, healthy: number, total: number, phase: string) {
        const row = this.rows.get(name);
        if (row) row.detail = `${phase === "soaking" ? "soaking" : "waiting for health"} ${healthy}/${total}`;
    }
    private render() {
        const lines = [...this.messages.slice(-5)];
        for (const w of this.waves.filter(Boolean)) {
            lines.push(w.title);
            for (const d of w.devices) {
                const r = this.rows.get(d)!;
                const secs = ((Date.now() - r.since) / 1000).toFixed(0);
                lines.push(`  ${ICON[r.status] ?? " "} ${d.padEnd(20)} ${r.status.padEnd(16)} ${r.detail} ${["waiting", "healthy", "unchanged", "rolled back"].includes(r.status) ? "" : `${secs}s`}`);
            }
        }
        this.draw(lines.join("\n"));
    }
    stop() {
        clearInterval(this.timer);
        this.render();
        this.draw.done();
    }
}
