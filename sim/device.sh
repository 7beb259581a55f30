#!/usr/bin/env bash
# A simulated edge device that behaves like a remote box reached over SSH:
# its own network namespace and address, its own dockerd, its own sshd.
#
#   device.sh up NAME [--gpu jetson|x86|none] [--engine debian|current]
#                            create or repair the device (idempotent; seconds when healthy);
#                            prints the same JSON as `env` when done. --gpu gives it the GPU
#                            stand-ins of a hardware class (device/gpu.sh), kept with its state:
#                            a later `up` without --gpu keeps them, --gpu none removes them
#                            (none is what a device never given --gpu has). --engine picks its
#                            Docker Engine (device/engine.sh), kept the same way: debian (20.10,
#                            the default) or current (built from Go modules, API 1.44+)
#   device.sh down NAME      stop it; keys, images, containers and volumes are kept
#   device.sh status NAME    one line per part; exit 0 only when all are healthy
#   device.sh env NAME       JSON for tests and stack files (see cmd_env)
#   device.sh selftest NAME  run a container with a memory limit and a healthcheck
#   device.sh fault NAME KIND  break the device on purpose; KIND is one of
#                            partition (drop every packet to and from it: new and open
#                            connections, ssh and published ports; ssh hangs until its timeout),
#                            heal (undo partition; `up` heals too),
#                            stop-sshd, stop-dockerd (containers stop with it),
#                            start-sshd, start-dockerd (start again what stop-* stopped)
#   device.sh purge NAME     down, then delete all of its state (new keys next time)
#
# What a device is made of (NAME is a DNS label, e.g. sim-edge-01):
#   network namespace NAME with eth0 = 10.77.0.(2+index)/24 on the host bridge edgesim0;
#     no default route, so nothing in it can reach beyond this machine
#   a holder process (`sleep infinity`) that keeps the device's own mount and UTS
#     namespaces: /run of the device is a directory of its own, so the standard
#     socket /var/run/docker.sock inside the device (and in containers that mount it,
#     as watchtower and the self-monitor do) is that device's daemon, like on real
#     hardware; /srv is its own as well (env: srvDir is where it is on this machine);
#     everything else is this machine's filesystem
#   dockerd, Debian's or the current engine (daemon.json: runtime `nvidia` -> runc, or
#     the jetson stand-in; insecure registry, json-file logs; with --gpu x86 the
#     stand-in GPU hook on its PATH)
#   sshd on port 22, key-only, user `edge` in group docker
# State: ${EDGE_FLEET_CACHE:-~/.cache/edge-fleet}/sim/NAME/ (keys, data-root, pids, logs);
# sockets and the device's /run under /run/edge-fleet/NAME/.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# The parts of a device, one concern per file.
# shellcheck source-path=SCRIPTDIR source=device/net.sh
source "$SIM_DIR/device/net.sh"
# shellcheck source-path=SCRIPTDIR source=device/sshd.sh
source "$SIM_DIR/device/sshd.sh"
# shellcheck source-path=SCRIPTDIR source=device/dockerd.sh
source "$SIM_DIR/device/dockerd.sh"
# shellcheck source-path=SCRIPTDIR source=device/faults.sh
source "$SIM_DIR/device/faults.sh"
# shellcheck source-path=SCRIPTDIR source=device/gpu.sh
source "$SIM_DIR/device/gpu.sh"
# shellcheck source-path=SCRIPTDIR source=device/engine.sh
source "$SIM_DIR/device/engine.sh"

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

set_device() { # set_device NAME: fills the D_* variables
    local name="$1"
    [[ "$name" =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] || die "device name must be a lower-case DNS label of at most 32 characters: '$name'"
    D_NAME="$name"
    [[ "$name" != registry ]] || die "'registry' is taken by the registry's state directory"
    D_STATE="$SIM_CACHE/$name"
    D_RUN="$SIM_RUN/$name"
    # The device's /run, bind-mounted over /run inside its mount namespace.
    D_DEVRUN="$D_RUN/run"
    D_SOCKET="$D_DEVRUN/docker.sock"
    D_SSH="$D_STATE/ssh"
    D_KEY="$D_SSH/id_ed25519"
    D_HOSTKEY="$D_SSH/ssh_host_ed25519_key"
    D_KNOWN_HOSTS="$D_SSH/known_hosts"
    D_SSH_CONFIG="$D_SSH/config"
    D_HOLDER_PID="$D_STATE/holder.pid"
    D_DOCKERD_PID="$D_STATE/dockerd.pid"
    D_SSHD_PID="$D_STATE/sshd.pid"
    D_DAEMON_JSON="$D_STATE/daemon.json"
    D_SSHD_CONFIG="$D_STATE/sshd_config"
    D_INDEX=""
    D_ADDR=""
    if [[ -s "$D_STATE/index" ]]; then
        D_INDEX="$(cat "$D_STATE/index")"
        D_ADDR="$SIM_NET_PREFIX.$((2 + D_INDEX))"
    fi
    # Interface names are limited to 15 characters; the index keeps them unique.
    D_VETH="vedge${D_INDEX}"
}

ensure_tools() {
    ensure_packages dockerd:docker.io /usr/sbin/sshd:openssh-server ssh:openssh-client \
        ip:iproute2 nsenter:util-linux unshare:util-linux flock:util-linux \
        iptables:iptables curl:curl jq:jq busybox:busybox-static ssh-keygen:openssh-client
}

stop_daemons() {
    stop_pidfile "$D_SSHD_PID" 5
    stop_dockerd
}

device_up() {
    ensure_network
    ensure_holder
    fault_heal
    ensure_dockerd
    ensure_sshd
    local hash
    hash="$(cat "$D_STATE/dockerd.config-hash")"
    if [[ "$(cat "$D_STATE/selftest.ok" 2>/dev/null)" != "$hash" ]]; then
        cmd_selftest
        echo "$hash" >"$D_STATE/selftest.ok"
    fi
    ssh_check
}

cmd_up() { # cmd_up NAME [--gpu CLASS] [--engine KIND]
    require_root
    local name="$1" gpu="" engine=""
    shift
    while [[ $# -gt 0 ]]; do
        [[ $# -ge 2 ]] || usage
        case "$1" in
            --gpu) gpu="$2" ;;
            --engine) engine="$2" ;;
            *) usage ;;
        esac
        shift 2
    done
    set -- "$name"
    [[ -z "$gpu" || " $GPU_CLASSES " == *" $gpu "* ]] || die "--gpu must be one of: $GPU_CLASSES (got '$gpu')"
    [[ -z "$engine" || " $ENGINES " == *" $engine "* ]] || die "--engine must be one of: $ENGINES (got '$engine')"
    ensure_tools
    set_device "$1"
    with_lock network allocate_index
    set_device "$1"
    [[ -n "$D_ADDR" ]] || die "no address for $1"
    if [[ -n "$gpu" ]]; then with_lock "device-$D_NAME" gpu_class_set "$gpu"; fi
    if [[ -n "$engine" ]]; then with_lock "device-$D_NAME" engine_set "$engine"; fi
    with_lock users ensure_user
    with_lock network ensure_bridge
    ensure_keys
    with_lock "device-$D_NAME" device_up
    cmd_env "$1"
}

cmd_down() {
    require_root
    set_device "$1"
    [[ -n "$D_INDEX" ]] || { log "$1: unknown device"; return 0; }
    with_lock "device-$D_NAME" device_down
}

device_down() {
    stop_daemons
    stop_pidfile "$D_HOLDER_PID" 5
    ip link del "$D_VETH" 2>/dev/null || true
    [[ -e "/run/netns/$D_NAME" ]] && ip netns del "$D_NAME"
    rm -f "$D_STATE/dockerd.config-hash" "$D_STATE/sshd.config-hash"
    log "$D_NAME: down"
}

cmd_purge() {
    require_root
    set_device "$1"
    [[ -d "$D_STATE" ]] || return 0
    cmd_down "$1"
    rm -rf "$D_STATE" "$D_RUN"
    log "$1: purged"
}

cmd_status() {
    set_device "$1"
    local ok=0
    [[ -n "$D_INDEX" ]] || { echo "$1: unknown device (never brought up)"; return 1; }
    report() { printf '%-8s %-4s %s\n' "$1" "$2" "$3"; [[ "$2" == ok ]] || ok=1; }
    if [[ -e "/run/netns/$D_NAME" ]]; then report netns ok "$D_NAME $D_ADDR"; else report netns down "$D_NAME"; fi
    if holder_ok 2>/dev/null; then report holder ok "pid $(cat "$D_HOLDER_PID")"; else report holder down ""; fi
    if pid_alive "$D_DOCKERD_PID" && docker_ping; then report dockerd ok "pid $(cat "$D_DOCKERD_PID") $D_SOCKET"; else report dockerd down "$D_SOCKET"; fi
    if pid_alive "$D_SSHD_PID" && sshd_listening; then report sshd ok "pid $(cat "$D_SSHD_PID") $D_ADDR:22"; else report sshd down "$D_ADDR:22"; fi
    if partitioned; then report network fault partition; fi
    return $ok
}

# JSON for tests and stack files. privateKeyPath and the ssh* files are the
# deployer's side; dockerHost/dockerSocket reach the device's daemon directly,
# for tests that inspect what a deploy did without going through ssh.
cmd_env() {
    set_device "$1"
    [[ -n "$D_INDEX" && -s "$D_HOSTKEY.pub" ]] || die "$1: unknown device; run: $0 up $1"
    local registry
    registry="$("$SIM_DIR/registry.sh" env)"
    jq -n \
        --arg name "$D_NAME" --arg host "$D_ADDR" --argjson port 22 --arg user "$SIM_SSH_USER" \
        --arg hostPublicKey "$(cut -d' ' -f1,2 "$D_HOSTKEY.pub")" \
        --arg privateKeyPath "$D_KEY" \
        --arg knownHostsPath "$D_KNOWN_HOSTS" \
        --arg sshConfigPath "$D_SSH_CONFIG" \
        --arg dockerSocket "$D_SOCKET" \
        --arg stateDir "$D_STATE" \
        --arg srvDir "$D_STATE/srv" \
        --arg gpuClass "$(gpu_class)" \
        --arg gpuDir "$D_STATE/gpu" \
        --arg engine "$(engine_kind)" \
        --argjson registry "$registry" \
        '{
            name: $name, host: $host, port: $port, user: $user,
            hostPublicKey: $hostPublicKey,
            privateKeyPath: $privateKeyPath,
            knownHostsPath: $knownHostsPath,
            sshConfigPath: $sshConfigPath,
            dockerHost: ("unix://" + $dockerSocket),
            dockerSocket: $dockerSocket,
            sshUrl: ("ssh://" + $user + "@" + $host + ":" + ($port | tostring)),
            sshOpts: ["-o", "UserKnownHostsFile=" + $knownHostsPath, "-o", "GlobalKnownHostsFile=/dev/null",
                      "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                      "-o", "ConnectTimeout=10", "-i", $privateKeyPath],
            stateDir: $stateDir,
            srvDir: $srvDir,
            engine: $engine,
            gpu: {class: $gpuClass, runtimeRecord: ($gpuDir + "/runtime.jsonl"), hookRecord: ($gpuDir + "/hook.jsonl")},
            registry: $registry
        }'
}

cmd="${1:-}"
[[ $# -ge 2 ]] || usage
case "$cmd" in
    up) cmd_up "${@:2}" ;;
    down) cmd_down "$2" ;;
    status) cmd_status "$2" ;;
    env) cmd_env "$2" ;;
    selftest) require_root; set_device "$2"; cmd_selftest ;;
    fault) cmd_fault "$2" "${3:-}" ;;
    purge) cmd_purge "$2" ;;
    *) usage ;;
esac
