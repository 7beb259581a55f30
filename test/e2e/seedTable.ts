/**
 * What every container must be, written out from the seed (section 4 of the
 * blueprint) and the README's service table, not computed by the planner:
 * a planner bug then shows up as a difference instead of being copied into
 * the expectation. Values for the `cpu` class with the stack defaults.
 */
export interface ExpectedContainer {
    readonly memoryMiB: number;
    readonly cpus: number;
    readonly restart: { readonly Name: string; readonly MaximumRetryCount: number };
    readonly test: readonly string[];
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly retries: number;
    readonly startPeriodSeconds: number;
    /** container path → [storage subdirectory or absolute host path, read-only] */
    readonly binds: Readonly<Record<string, readonly [string, boolean]>>;
    readonly volumes: Readonly<Record<string, string>>;
    readonly networks: readonly string[];
    readonly ports: Readonly<Record<string, string>>;
    /** Environment beyond the image's own, exactly. */
    readonly env: readonly string[];
    readonly watched: boolean;
}

const ALWAYS = { Name: "always", MaximumRetryCount: 0 };
const ON_FAILURE_5 = { Name: "on-failure", MaximumRetryCount: 5 };
const UNLESS_STOPPED = { Name: "unless-stopped", MaximumRetryCount: 0 };
const heartbeat = (minutes: number) => ["CMD", "find", "/app/heartbeat", "-mmin", `-${minutes}`];
const BASE_ENV = ["LOG_LEVEL=INFO", "TZ=UTC"];
const SOCKET: Readonly<Record<string, readonly [string, boolean]>> = { "/var/run/docker.sock": ["/var/run/docker.sock", false] };

export const SEED_CONTAINERS: Readonly<Record<string, ExpectedContainer>> = {
    agent_dvr: {
        memoryMiB: 512, cpus: 1, restart: ALWAYS,
        test: heartbeat(2), intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30,
        binds: { "/app/input": ["input", false] }, volumes: {}, networks: ["vv_backend"], ports: {}, env: BASE_ENV, watched: true,
    },
    scene_scanner: {
        memoryMiB: 768, cpus: 1, restart: ON_FAILURE_5,
        test: heartbeat(5), intervalSeconds: 60, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30,
        binds: { "/app/input": ["input", true], "/app/processed": ["processed", false] }, volumes: {}, networks: ["vv_backend"], ports: {}, env: BASE_ENV, watched: true,
    },
    // Seed 4.2: mem_limit 2g, cpus '1.5'.
    scene_summarizer: {
        memoryMiB: 2048, cpus: 1.5, restart: ON_FAILURE_5,
        test: heartbeat(5), intervalSeconds: 60, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 60,
        binds: { "/app/processed": ["processed", true], "/app/summaries": ["summaries", false] }, volumes: {}, networks: ["vv_backend"], ports: {}, env: BASE_ENV, watched: true,
    },
    logline_writer: {
        memoryMiB: 256, cpus: 0.5, restart: ON_FAILURE_5,
        test: heartbeat(5), intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30,
        binds: { "/app/summaries": ["summaries", true], "/app/loglines": ["loglines", false] }, volumes: {}, networks: ["vv_backend"], ports: {}, env: BASE_ENV, watched: false,
    },
    // Seed 4.3: find /app/heartbeat -mmin -5, every 2m, timeout 10s, 3 retries.
    playlist_manager: {
        memoryMiB: 256, cpus: 0.5, restart: ON_FAILURE_5,
        test: heartbeat(5), intervalSeconds: 120, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 0,
        binds: { "/app/loglines": ["loglines", true], "/app/playlists": ["playlists", false] }, volumes: {}, networks: ["vv_backend"], ports: {}, env: BASE_ENV, watched: false,
    },
    // Seed 4.3: curl -f http://localhost:8000/status, 30s, 10s, 3 retries, start period 60s.
    tv_api: {
        memoryMiB: 512, cpus: 1, restart: ALWAYS,
        test: ["CMD", "curl", "-f", "http://localhost:8000/status"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 60,
        binds: { "/app/playlists": ["playlists", true] }, volumes: {}, networks: ["vv_backend"], ports: { "8000/tcp": "8000" }, env: BASE_ENV, watched: false,
    },
    watchtower: {
        memoryMiB: 128, cpus: 0.25, restart: UNLESS_STOPPED,
        test: ["CMD", "/watchtower", "--health-check"], intervalSeconds: 60, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 10,
        binds: SOCKET, volumes: {}, networks: ["vv_control"], ports: {},
        env: [...BASE_ENV, "DOCKER_CONFIG=/config", "WATCHTOWER_CLEANUP=true", "WATCHTOWER_INCLUDE_STOPPED=true", "WATCHTOWER_LABEL_ENABLE=true", "WATCHTOWER_MONITOR_ONLY=true", "WATCHTOWER_POLL_INTERVAL=300", "DOCKER_API_VERSION=1.40"],
        watched: false,
    },
    orchestrator: {
        memoryMiB: 256, cpus: 0.5, restart: UNLESS_STOPPED,
        test: heartbeat(5), intervalSeconds: 60, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30,
        binds: { "/app/input": ["input", true], "/app/processed": ["processed", true] }, volumes: {}, networks: ["vv_backend"], ports: {},
        env: [...BASE_ENV, "ORCHESTRATOR_INTERVAL=300"], watched: false,
    },
    prometheus: {
        memoryMiB: 512, cpus: 0.5, restart: UNLESS_STOPPED,
        test: ["CMD", "wget", "-q", "--spider", "http://localhost:9090/-/healthy"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30,
        binds: {}, volumes: { "/prometheus": "prometheus_data" }, networks: ["vv_backend", "vv_monitoring"], ports: {}, env: BASE_ENV, watched: false,
    },
    grafana: {
        memoryMiB: 256, cpus: 0.5, restart: UNLESS_STOPPED,
        test: ["CMD", "wget", "-q", "--spider", "http://localhost:3000/api/health"], intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30,
        binds: {}, volumes: { "/var/lib/grafana": "grafana_data" }, networks: ["vv_monitoring"], ports: { "3000/tcp": "3000" }, env: BASE_ENV, watched: false,
    },
    self_monitor: {
        memoryMiB: 64, cpus: 0.1, restart: UNLESS_STOPPED,
        test: ["CMD", "/self-monitor", "-healthcheck"], intervalSeconds: 30, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 10,
        binds: SOCKET, volumes: {}, networks: ["vv_control"], ports: {},
        // The lifecycle stack keeps Pulumi.local.yaml's selfMonitor.intervalSeconds: 10.
        // README: selfMonitor.maxRestarts 3 per restartWindowSeconds 3600 by default.
        env: [...BASE_ENV, "SELF_MONITOR_INTERVAL_SECONDS=10", "SELF_MONITOR_MAX_RESTARTS=3", "SELF_MONITOR_RESTART_WINDOW_SECONDS=3600", "SELF_MONITOR_STACK=e2e-lifecycle"],
        watched: false,
    },
};
