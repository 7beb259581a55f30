# shellcheck shell=bash
# A device's place on the fleet network and its namespaces; sourced by
# sim/device.sh, which sets the D_* variables (set_device) first.
#
#   allocate_index   give the device its index, and so its address, once
#   ensure_network   network namespace NAME, veth pair to the bridge, eth0 address
#   ensure_holder    the process that keeps the device's mount and UTS namespaces
#   holder_ok        the holder runs, with the current setup, in the device's netns
#   in_device CMD    run CMD inside the device's namespaces

# The index (and so the address) is given out once per device name and kept with
# its state, so the pinned host key and any stack file keep matching the address.
allocate_index() {
    [[ -n "$D_INDEX" ]] && return 0
    mkdir -p "$SIM_CACHE"
    local i used f
    used=" "
    for f in "$SIM_CACHE"/*/index; do
        [[ -s "$f" ]] && used+="$(cat "$f") "
    done
    for ((i = 0; i < SIM_MAX_DEVICES; i++)); do
        if [[ "$used" != *" $i "* ]]; then
            mkdir -p "$D_STATE"
            echo "$i" >"$D_STATE/index"
            return 0
        fi
    done
    die "no free device index (at most $SIM_MAX_DEVICES devices)"
}

ensure_network() {
    [[ -e "/run/netns/$D_NAME" ]] || ip netns add "$D_NAME"
    # The host end must exist and its peer must be this namespace's eth0: a veth
    # of the same name can be another cache's device with the same index.
    if ! ip link show "$D_VETH" >/dev/null 2>&1 || ! ip -n "$D_NAME" link show eth0 >/dev/null 2>&1 ||
        [[ "$(ip -o link show "$D_VETH" | grep -o 'link-netns [^ ]*' | cut -d' ' -f2)" != "$D_NAME" ]]; then
        ip link del "$D_VETH" 2>/dev/null || true
        ip -n "$D_NAME" link del eth0 2>/dev/null || true
        ip link add "$D_VETH" type veth peer name eth0 netns "$D_NAME"
    fi
    ip link set "$D_VETH" master "$SIM_BRIDGE"
    ip link set "$D_VETH" up
    ip -n "$D_NAME" link set lo up
    if ! ip -n "$D_NAME" -4 addr show dev eth0 | grep -q "inet $D_ADDR/"; then
        ip -n "$D_NAME" addr flush dev eth0
        ip -n "$D_NAME" addr add "$D_ADDR/$SIM_PREFIX_LEN" dev eth0
    fi
    ip -n "$D_NAME" link set eth0 up
}

# The holder owns the device's mount and UTS namespaces; dockerd and sshd are
# entered into them, so either can be restarted without the other. The script
# is what it sets up in them ($1.. are holder_args); a change to either
# restarts the device's daemons.
# shellcheck disable=SC2016 # expanded by the holder shell, not here
HOLDER_SCRIPT='
set -e
mount --bind "$1" /run
mount --bind "$2" /etc/resolv.conf
mount --bind "$3" /etc/hosts
mount --bind "$4" /srv
hostname "$5"
exec sleep infinity
'

holder_args() {
    printf '%s\n' "$D_DEVRUN" "$D_STATE/resolv.conf" "$D_STATE/hosts" "$D_STATE/srv" "$D_NAME"
}

holder_hash() {
    { echo "$HOLDER_SCRIPT"; holder_args; } | sha256sum | cut -d' ' -f1
}

holder_ok() {
    pid_alive "$D_HOLDER_PID" || return 1
    [[ "$(cat "$D_STATE/holder.config-hash" 2>/dev/null)" == "$(holder_hash)" ]] || return 1
    local pid
    pid="$(cat "$D_HOLDER_PID")"
    [[ "$(readlink "/proc/$pid/ns/net")" == "$(ip netns exec "$D_NAME" readlink /proc/self/ns/net 2>/dev/null)" ]]
}

# Namespace names and addresses are this machine's, while pid files are per
# cache: a simulation of another cache, or a run killed before `down`, can leave
# an sshd or dockerd in the namespace that keeps the device's address and port
# busy. None of them is tracked by this device's pid files, so stop them all.
stop_strays() {
    [[ -e "/run/netns/$D_NAME" ]] || return 0
    local pids i
    pids="$(ip netns pids "$D_NAME" 2>/dev/null | tr '\n' ' ')"
    [[ -n "${pids// /}" ]] || return 0
    log "$D_NAME: stopping processes left in its namespace by another run: $pids"
    # shellcheck disable=SC2086 # a list of pids
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        [[ -z "$(ip netns pids "$D_NAME" 2>/dev/null)" ]] && return 0
        sleep 0.1
    done
    pids="$(ip netns pids "$D_NAME" 2>/dev/null | tr '\n' ' ')"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
}

ensure_holder() {
    holder_ok && return 0
    # Daemons left in an old namespace would keep the old /run: start over.
    stop_daemons
    stop_pidfile "$D_HOLDER_PID" 5
    stop_strays
    mkdir -p "$D_DEVRUN"
    chmod 755 "$SIM_RUN" "$D_RUN" "$D_DEVRUN"
    # /run/sshd is sshd's privilege-separation directory.
    mkdir -p "$D_DEVRUN/sshd" "$D_DEVRUN/edge"
    chmod 755 "$D_DEVRUN/sshd" "$D_DEVRUN/edge"
    # Name lookups inside the device go to its own link only (nothing answers on
    # 10.77.0.1:53, so they fail fast) instead of to this machine's resolvers.
    printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$SIM_HOST_ADDR" >"$D_STATE/resolv.conf"
    printf '127.0.0.1\tlocalhost\n%s\t%s\n%s\tedge-fleet-registry\n' "$D_ADDR" "$D_NAME" "$SIM_HOST_ADDR" >"$D_STATE/hosts"
    # /srv, where the stack keeps video by default, is the device's own too:
    # two devices must not share their recordings through this machine's disk.
    mkdir -p "$D_STATE/srv" /srv
    log "$D_NAME: starting namespace holder"
    local args=()
    mapfile -t args < <(holder_args)
    setsid nsenter --net="/run/netns/$D_NAME" -- \
        unshare --mount --uts --propagation slave -- \
        /bin/sh -c "$HOLDER_SCRIPT" holder "${args[@]}" \
        >>"$D_STATE/holder.log" 2>&1 </dev/null 9>&- &
    echo $! >"$D_HOLDER_PID"
    holder_hash >"$D_STATE/holder.config-hash"
    local i
    for ((i = 0; i < 50; i++)); do
        [[ "$(nsenter -t "$(cat "$D_HOLDER_PID")" -u hostname 2>/dev/null)" == "$D_NAME" ]] && return 0
        sleep 0.1
    done
    die "$D_NAME: namespace holder did not start; see $D_STATE/holder.log"
}

in_device() { # run a command inside the device's namespaces
    nsenter -t "$(cat "$D_HOLDER_PID")" --mount --uts --net -- "$@"
}
