# shellcheck shell=bash
# A device's own Docker daemon; sourced by sim/device.sh, which sets the D_*
# variables (set_device) first.
#
#   ensure_dockerd   dockerd inside the device, restarted when daemon.json changes
#   stop_dockerd     stop it, and whatever a killed daemon leaves behind
#   docker_ping      the daemon answers on the device's socket
#   cmd_selftest     the daemon enforces what a stack declares

DOCKERD_START_TIMEOUT=90

write_daemon_json() {
    local i="$D_INDEX" dataRoot
    dataRoot="$(engine_data_root)"
    mkdir -p "$dataRoot"
    # Paths are as seen inside the device: /run is the device's own.
    jq -n \
        --arg dataRoot "$dataRoot" \
        --arg pidfile "$D_DOCKERD_PID" \
        --arg bip "172.16.$i.1/24" \
        --arg pool "10.$((100 + i)).0.0/16" \
        --arg registry "$SIM_REGISTRY_SERVER" \
        --arg cgroupParent "/edge-fleet-$D_NAME" \
        --arg nvidiaRuntime "$(gpu_runtime_path)" \
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
            "runtimes": {"nvidia": {"path": $nvidiaRuntime}},
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
    gpu_install
    engine_install
    write_daemon_json
    local want
    # The GPU class and the engine also decide dockerd's PATH, which daemon.json cannot hold.
    want="$({ cat "$D_DAEMON_JSON"; gpu_config; engine_config; } | sha256sum | cut -d' ' -f1)"
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
        env -i PATH="$(engine_path)$(gpu_dockerd_path)" HOME=/root \
        "$(engine_dockerd)" --config-file "$D_DAEMON_JSON" >>"$D_STATE/dockerd.log" 2>&1 </dev/null 9>&- &
    local launcher=$! i
    for ((i = 0; i < DOCKERD_START_TIMEOUT * 10; i++)); do
        docker_ping && return 0
        kill -0 "$launcher" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 30 "$D_STATE/dockerd.log" >&2 || true
    die "$D_NAME: dockerd did not come up"
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
    gpu_selftest "$img"
    "${d[@]}" rmi "$img" >/dev/null
    log "$D_NAME: selftest passed (memory limit, healthcheck, runtime nvidia, GPU stand-ins: $(gpu_class))"
}
