# shellcheck shell=bash disable=SC2034
# Shared settings and helpers of the simulated edge fleet; sourced by device.sh,
# registry.sh and images/build.sh. Nothing here runs on its own.
#
# Layout of the simulation (all traffic stays on this machine):
#
#   host ── bridge edgesim0 10.77.0.1/24 ──┬── veth ── netns sim-edge-01  10.77.0.2
#      │                                   └── veth ── netns sim-edge-02  10.77.0.3
#      └── registry on 10.77.0.1:5000 (one for every device, stands in for GHCR)
#
# One bridge instead of a /24 per device so the single registry address is on the
# devices' own link: no routing, no forwarding, no default route in any device.

SIM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SIM_DIR/.." && pwd)"

CACHE_ROOT="${EDGE_FLEET_CACHE:-$HOME/.cache/edge-fleet}"
SIM_CACHE="$CACHE_ROOT/sim"
# Sockets and the per-device /run live on tmpfs with a short path: unix socket
# paths are limited to 108 bytes, and the deploy user must be able to traverse
# every directory to the socket (the cache under root's home is not traversable).
SIM_RUN="/run/edge-fleet"

SIM_BRIDGE="edgesim0"
SIM_NET_PREFIX="10.77.0"
SIM_HOST_ADDR="$SIM_NET_PREFIX.1"
SIM_PREFIX_LEN=24
# Device index i gets 10.77.0.(2+i); 32 devices is far more than any test needs.
SIM_MAX_DEVICES=32

SIM_REGISTRY_PORT=5000
SIM_REGISTRY_SERVER="$SIM_HOST_ADDR:$SIM_REGISTRY_PORT"
SIM_REGISTRY_USER="edge-fleet-ci"
SIM_REGISTRY_NAMESPACE="vv-video-ai"

SIM_SSH_USER="edge"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, dockerd, sshd)"
}

# Installs the Debian packages behind the given commands when a command is
# missing, so a fresh machine needs nothing but these scripts.
#   ensure_packages cmd:package ...
ensure_packages() {
    local missing=() spec cmd pkg
    for spec in "$@"; do
        cmd="${spec%%:*}" pkg="${spec#*:}"
        if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "$cmd" ]]; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]})) || return 0
    log "installing ${missing[*]} (apt-get)"
    mkdir -p "$CACHE_ROOT"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$CACHE_ROOT/apt.log" 2>&1; then
        apt-get update -qq >>"$CACHE_ROOT/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$CACHE_ROOT/apt.log" 2>&1 ||
            die "apt-get install ${missing[*]} failed; see $CACHE_ROOT/apt.log"
    fi
}

proc_alive() { # proc_alive PID: running, and not a zombie
    [[ "$1" =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null || return 1
    # A daemon that exited stays a zombie until init reaps it, which can take seconds here.
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

pid_alive() { # pid_alive FILE: the pid in FILE is a live process
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(cat "$1" 2>/dev/null)" || return 1
    proc_alive "$pid"
}

# Stops the process whose pid is in FILE: TERM, then KILL after the grace period.
stop_pidfile() { # stop_pidfile FILE [grace-seconds]
    local file="$1" grace="${2:-10}" pid i
    pid_alive "$file" || { rm -f "$file"; return 0; }
    pid="$(cat "$file")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        proc_alive "$pid" || break
        sleep 0.1
    done
    if proc_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$file"
}

# The host side of the fleet network; shared by all devices and the registry.
ensure_bridge() {
    if ! ip link show "$SIM_BRIDGE" >/dev/null 2>&1; then
        ip link add "$SIM_BRIDGE" type bridge
    fi
    if ! ip -4 addr show dev "$SIM_BRIDGE" | grep -q "inet $SIM_HOST_ADDR/"; then
        ip addr add "$SIM_HOST_ADDR/$SIM_PREFIX_LEN" dev "$SIM_BRIDGE"
    fi
    ip link set "$SIM_BRIDGE" up
}

# Flock-guarded section; the lock file lives in the cache so parallel runs of the
# scripts (two devices brought up at once) serialise on shared state only.
with_lock() { # with_lock NAME cmd...
    local name="$1"; shift
    mkdir -p "$SIM_CACHE"
    (
        flock -w 300 9 || die "timed out waiting for lock $name"
        "$@"
    ) 9>"$SIM_CACHE/.$name.lock"
}

json_escape() { jq -Rn --arg s "$1" '$s'; }
