#!/usr/bin/env bash
# A simulated edge device that behaves like a remote box reached over SSH:
# its own network namespace and address, its own dockerd, its own sshd.
#
#   device.sh up NAME        create or repair the device (idempotent; seconds when healthy);
#                            prints the same JSON as `env` when done
#   device.sh down NAME      stop it; keys, images, containers and volumes are kept
#   device.sh status NAME    one line per part; exit 0 only when all are healthy
#   device.sh env NAME       JSON for tests and stack files (see cmd_env)
#   device.sh selftest NAME  run a container with a memory limit and a healthcheck
#   device.sh fault NAME KIND  break the device on purpose; KIND is one of
#                            partition (drop all packets to it, ssh hangs until its timeout),
#                            stop-sshd, stop-dockerd, heal (undo partition; `up` heals too)
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
#   dockerd (daemon.json: runtime `nvidia` -> runc, insecure registry, json-file logs)
#   sshd on port 22, key-only, user `edge` in group docker
# State: ${EDGE_FLEET_CACHE:-~/.cache/edge-fleet}/sim/NAME/ (keys, data-root, pids, logs);
# sockets and the device's /run under /run/edge-fleet/NAME/.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

DOCKERD_START_TIMEOUT=90

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

ensure_tools() {
    ensure_packages dockerd:docker.io /usr/sbin/sshd:openssh-server ssh:openssh-client \
        ip:iproute2 nsenter:util-linux unshare:util-linux flock:util-linux \
        iptables:iptables curl:curl jq:jq busybox:busybox-static ssh-keygen:openssh-client
}

ensure_user() {
    getent group docker >/dev/null || groupadd --system docker
    if ! id "$SIM_SSH_USER" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/bash --groups docker "$SIM_SSH_USER"
    fi
    id -nG "$SIM_SSH_USER" | tr ' ' '\n' | grep -qx docker || usermod -aG docker "$SIM_SSH_USER"
    # '*' instead of the locked '!': with UsePAM no, sshd refuses even key logins
    # to accounts whose password field starts with '!'.
    if [[ "$(getent shadow "$SIM_SSH_USER" | cut -d: -f2)" != "*" ]]; then
        usermod -p '*' "$SIM_SSH_USER"
    fi
}

ensure_keys() {
    mkdir -p "$D_SSH"
    chmod 700 "$D_STATE" "$D_SSH"
    [[ -s "$D_HOSTKEY" ]] || ssh-keygen -q -t ed25519 -N '' -C "$D_NAME host key" -f "$D_HOSTKEY"
    [[ -s "$D_KEY" ]] || ssh-keygen -q -t ed25519 -N '' -C "edge-fleet deployer for $D_NAME" -f "$D_KEY"
    local hostpub
    hostpub="$(cut -d' ' -f1,2 "$D_HOSTKEY.pub")"
    echo "$D_ADDR $hostpub" >"$D_KNOWN_HOSTS"
    # For tools that take an ssh config (ssh -F, the wrapper in bin/ssh).
    cat >"$D_SSH_CONFIG" <<EOF
Host $D_NAME $D_ADDR
    HostName $D_ADDR
    Port 22
    User $SIM_SSH_USER
    IdentityFile $D_KEY
    IdentitiesOnly yes
    UserKnownHostsFile $D_KNOWN_HOSTS
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 10
EOF
    # The docker CLI has no flag for ssh options; put this directory first on PATH
    # to make `docker -H ssh://edge@ADDR` use the pinned key and host key.
    mkdir -p "$D_STATE/bin"
    cat >"$D_STATE/bin/ssh" <<EOF
#!/bin/sh
exec /usr/bin/ssh -F '$D_SSH_CONFIG' "\$@"
EOF
    chmod 755 "$D_STATE/bin/ssh"
}

ensure_network() {
    [[ -e "/run/netns/$D_NAME" ]] || ip netns add "$D_NAME"
    if ! ip link show "$D_VETH" >/dev/null 2>&1; then
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

ensure_holder() {
    holder_ok && return 0
    # Daemons left in an old namespace would keep the old /run: start over.
    stop_daemons
    stop_pidfile "$D_HOLDER_PID" 5
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

write_daemon_json() {
    local i="$D_INDEX"
    mkdir -p "$D_STATE/docker"
    # Paths are as seen inside the device: /run is the device's own.
    jq -n \
        --arg dataRoot "$D_STATE/docker" \
        --arg pidfile "$D_DOCKERD_PID" \
        --arg bip "172.16.$i.1/24" \
        --arg pool "10.$((100 + i)).0.0/16" \
        --arg registry "$SIM_REGISTRY_SERVER" \
        --arg cgroupParent "/edge-fleet-$D_NAME" \
        '{
            "data-root": $dataRoot,
            "exec-root": "/run/docker",
            "pidfile": $pidfile,
            "hosts": ["unix:///var/run/docker.sock"],
            "group": "docker",
            "storage-driver": "overlay2",
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            "cgroup-parent": $cgroupParent,
            "bip": $bip,
            "default-address-pools": [{"base": $pool, "size": 24}],
            "iptables": true,
            "ip-forward": true,
            "runtimes": {"nvidia": {"path": "runc"}},
            "insecure-registries": [$registry],
            "log-driver": "json-file",
            "log-opts": {"max-size": "10m", "max-file": "3"},
            "live-restore": false,
            "shutdown-timeout": 15
        }' >"$D_DAEMON_JSON.new"
    mv "$D_DAEMON_JSON.new" "$D_DAEMON_JSON"
}

docker_ping() {
    [[ "$(curl -s -m 3 --unix-socket "$D_SOCKET" http://device/_ping 2>/dev/null)" == OK ]]
}

ensure_dockerd() {
    write_daemon_json
    local want
    want="$(sha256sum <"$D_DAEMON_JSON" | cut -d' ' -f1)"
    if pid_alive "$D_DOCKERD_PID" && [[ "$(cat "$D_STATE/dockerd.config-hash" 2>/dev/null)" == "$want" ]]; then
        local i
        for ((i = 0; i < DOCKERD_START_TIMEOUT * 2; i++)); do
            docker_ping && return 0
            pid_alive "$D_DOCKERD_PID" || break
            sleep 0.5
        done
        log "$D_NAME: dockerd does not answer; restarting it"
    fi
    stop_dockerd
    log "$D_NAME: starting dockerd"
    echo "$want" >"$D_STATE/dockerd.config-hash"
    # setsid: the daemon must outlive this script and its terminal.
    setsid nsenter -t "$(cat "$D_HOLDER_PID")" --mount --uts --net -- \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        dockerd --config-file "$D_DAEMON_JSON" >>"$D_STATE/dockerd.log" 2>&1 </dev/null 9>&- &
    local launcher=$! i
    for ((i = 0; i < DOCKERD_START_TIMEOUT * 10; i++)); do
        docker_ping && return 0
        kill -0 "$launcher" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 30 "$D_STATE/dockerd.log" >&2 || true
    die "$D_NAME: dockerd did not come up"
}

write_sshd_config() {
    cat >"$D_SSHD_CONFIG.new" <<EOF
# Written by sim/device.sh; edits are overwritten.
ListenAddress $D_ADDR:22
HostKey $D_HOSTKEY
PidFile $D_SSHD_PID
AuthorizedKeysFile /run/edge/authorized_keys
AllowUsers $SIM_SSH_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
PrintMotd no
X11Forwarding no
# Like on a real device: the CLI's default socket is the device's daemon.
SetEnv DOCKER_HOST=unix:///var/run/docker.sock
# Every Docker API connection of a deploy is its own ssh session: a Pulumi
# update opens dozens at once, more than the default 10 unauthenticated
# connections that sshd accepts before it starts dropping new ones.
MaxStartups 100:30:200
MaxSessions 100
LogLevel VERBOSE
EOF
    mv "$D_SSHD_CONFIG.new" "$D_SSHD_CONFIG"
    # The key file is read by sshd as the user; root-owned and world-readable is what StrictModes accepts.
    install -m 644 -o root -g root "$D_KEY.pub" "$D_DEVRUN/edge/authorized_keys"
}

sshd_listening() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$D_ADDR/22" 2>/dev/null
}

ensure_sshd() {
    write_sshd_config
    local want
    want="$(cat "$D_SSHD_CONFIG" "$D_HOSTKEY.pub" | sha256sum | cut -d' ' -f1)"
    if pid_alive "$D_SSHD_PID" && [[ "$(cat "$D_STATE/sshd.config-hash" 2>/dev/null)" == "$want" ]] && sshd_listening; then
        return 0
    fi
    stop_pidfile "$D_SSHD_PID" 5
    in_device /usr/sbin/sshd -t -f "$D_SSHD_CONFIG" || die "$D_NAME: invalid sshd config $D_SSHD_CONFIG"
    log "$D_NAME: starting sshd on $D_ADDR:22"
    echo "$want" >"$D_STATE/sshd.config-hash"
    # sshd forks into the background itself and writes its pid file.
    in_device env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /usr/sbin/sshd -f "$D_SSHD_CONFIG" -E "$D_STATE/sshd.log" 9>&-
    local i
    for ((i = 0; i < 50; i++)); do
        sshd_listening && return 0
        sleep 0.1
    done
    die "$D_NAME: sshd is not listening on $D_ADDR:22; see $D_STATE/sshd.log"
}

# The whole path a deploy takes: ssh with the pinned host key, then the docker
# CLI on the device dialing its daemon.
ssh_check() {
    local out
    out="$(ssh -F "$D_SSH_CONFIG" "$D_ADDR" docker version --format '{{.Server.Version}}' 2>&1)" ||
        die "$D_NAME: ssh check failed: $out"
}

fault_heal() {
    [[ -e "/run/netns/$D_NAME" ]] || return 0
    if ip netns exec "$D_NAME" iptables -w -C INPUT -i eth0 -j EDGE-SIM-FAULT 2>/dev/null; then
        ip netns exec "$D_NAME" iptables -w -D INPUT -i eth0 -j EDGE-SIM-FAULT
        log "$D_NAME: partition healed"
    fi
    ip netns exec "$D_NAME" iptables -w -F EDGE-SIM-FAULT 2>/dev/null || true
}

# Checks once per daemon configuration that the device enforces what a stack
# declares: memory limits (cgroup memory controller), healthchecks, and the
# `nvidia` runtime name. A tiny busybox image is imported from the local disk.
cmd_selftest() {
    local d=(docker -H "unix://$D_SOCKET") img="edge-fleet-sim/selftest:busybox" tmp rc status i
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/bin" "$tmp/tmp"
    chmod 1777 "$tmp/tmp"
    cp /bin/busybox "$tmp/bin/busybox"
    for i in sh dd sleep touch test rm cat; do ln -s busybox "$tmp/bin/$i"; done
    tar -C "$tmp" -c . | "${d[@]}" import - "$img" >/dev/null
    rm -rf "$tmp"
    "${d[@]}" rm -f edge-fleet-selftest >/dev/null 2>&1 || true

    # 64 MiB into tmpfs (charged to the container's memory) under a 24 MiB limit: OOM kill, exit 137.
    rc=0
    "${d[@]}" run --rm --memory 24m --memory-swap 24m --shm-size 128m --runtime nvidia "$img" \
        sh -c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=64 2>/dev/null' || rc=$?
    [[ $rc -eq 137 ]] || die "$D_NAME: memory limit not enforced (exit $rc, want 137)"

    "${d[@]}" run -d --name edge-fleet-selftest --health-cmd 'test ! -e /tmp/unhealthy' \
        --health-interval 1s --health-timeout 1s --health-retries 1 "$img" sleep 120 >/dev/null
    wait_health() {
        for ((i = 0; i < 40; i++)); do
            status="$("${d[@]}" inspect -f '{{.State.Health.Status}}' edge-fleet-selftest)"
            [[ "$status" == "$1" ]] && return 0
            sleep 0.25
        done
        return 1
    }
    wait_health healthy || die "$D_NAME: healthcheck never reported healthy"
    "${d[@]}" exec edge-fleet-selftest touch /tmp/unhealthy
    wait_health unhealthy || die "$D_NAME: healthcheck never reported unhealthy"
    "${d[@]}" rm -f edge-fleet-selftest >/dev/null
    "${d[@]}" rmi "$img" >/dev/null
    log "$D_NAME: selftest passed (memory limit, healthcheck, runtime nvidia)"
}

stop_daemons() {
    stop_pidfile "$D_SSHD_PID" 5
    stop_dockerd
}

stop_dockerd() {
    # dockerd stops its containers (shutdown-timeout 15 s) before it exits.
    stop_pidfile "$D_DOCKERD_PID" 40
    # A dockerd that was killed leaves its containerd and shims; they are found by
    # the device's mount namespace, which nothing else on this machine shares.
    local ns="" pid p
    if pid_alive "$D_HOLDER_PID"; then
        ns="$(readlink "/proc/$(cat "$D_HOLDER_PID")/ns/mnt")" || ns=""
    fi
    if [[ -n "$ns" ]]; then
        for p in /proc/[0-9]*; do
            pid="${p#/proc/}"
            [[ "$pid" == "$(cat "$D_HOLDER_PID")" ]] && continue
            [[ "$(readlink "$p/ns/mnt" 2>/dev/null)" == "$ns" ]] || continue
            case "$(cat "$p/comm" 2>/dev/null)" in
                containerd*|dockerd) kill -KILL "$pid" 2>/dev/null || true ;;
            esac
        done
    fi
    # dockerd trusts the pid file of its managed containerd if that pid exists,
    # and a killed containerd can linger as a zombie until init reaps it.
    rm -f "$D_DEVRUN/docker/containerd/containerd.pid"
    # Container processes outlive killed shims; they sit in the device's own
    # cgroup parent (cgroup v1 controllers, or the v2 tree).
    local cg
    for cg in /sys/fs/cgroup/pids/edge-fleet-"$D_NAME" /sys/fs/cgroup/memory/edge-fleet-"$D_NAME" /sys/fs/cgroup/edge-fleet-"$D_NAME"; do
        [[ -d "$cg" ]] || continue
        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
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

cmd_up() {
    require_root
    ensure_tools
    set_device "$1"
    with_lock network allocate_index
    set_device "$1"
    [[ -n "$D_ADDR" ]] || die "no address for $1"
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
    if ip netns exec "$D_NAME" iptables -w -C INPUT -i eth0 -j EDGE-SIM-FAULT 2>/dev/null; then report network fault partition; fi
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
            registry: $registry
        }'
}

cmd_fault() {
    require_root
    set_device "$1"
    [[ -n "$D_INDEX" ]] || die "$1: unknown device"
    case "${2:-}" in
        partition)
            # DROP, not REJECT: a dead link on the far side of a WAN looks like silence.
            ip netns exec "$D_NAME" iptables -w -N EDGE-SIM-FAULT 2>/dev/null || true
            ip netns exec "$D_NAME" iptables -w -F EDGE-SIM-FAULT
            ip netns exec "$D_NAME" iptables -w -A EDGE-SIM-FAULT -j DROP
            ip netns exec "$D_NAME" iptables -w -C INPUT -i eth0 -j EDGE-SIM-FAULT 2>/dev/null ||
                ip netns exec "$D_NAME" iptables -w -I INPUT 1 -i eth0 -j EDGE-SIM-FAULT
            log "$D_NAME: partitioned (packets to $D_ADDR are dropped)" ;;
        heal) fault_heal ;;
        stop-sshd) stop_pidfile "$D_SSHD_PID" 5; log "$D_NAME: sshd stopped" ;;
        stop-dockerd) stop_dockerd; log "$D_NAME: dockerd stopped" ;;
        *) die "fault KIND must be one of: partition heal stop-sshd stop-dockerd" ;;
    esac
}

cmd="${1:-}"
[[ $# -ge 2 ]] || usage
case "$cmd" in
    up) cmd_up "$2" ;;
    down) cmd_down "$2" ;;
    status) cmd_status "$2" ;;
    env) cmd_env "$2" ;;
    selftest) require_root; set_device "$2"; cmd_selftest ;;
    fault) cmd_fault "$2" "${3:-}" ;;
    purge) cmd_purge "$2" ;;
    *) usage ;;
esac
