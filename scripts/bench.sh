#!/usr/bin/env bash
# `npm run bench`: how long deploys take with this project, compared with
# `docker compose up -d --wait` deploying the same containers to the same
# simulated device. Three figures per tool, each until every container is healthy:
#   cold       first deploy to a device with no containers and no images
#   no-op      the same deploy again, nothing to change
#   change     one service changed (tv_api release 1.0.0 -> 1.1.0)
# plus the peak memory of the deploying processes during the cold deploy.
#
# Fairness: the compose file is generated from the same plan the Pulumi
# program deploys (scripts/bench/compose-file.ts), both tools reach the
# device's Docker over SSH with the same pinned keys, and both start cold:
# before each cold run the device's containers, networks, images and the
# storage root are removed, so both pull every image. Health is polled the
# same way for both, through the device's socket.
#
# Environment: EDGE_FLEET_BENCH_DEVICE (default sim-edge-04: sim-edge-01 is
# `npm start`'s, 02 and 03 are the e2e tests'), EDGE_FLEET_BENCH_ROUNDS (1).
# Logs and generated files stay in $EDGE_FLEET_CACHE/bench/. The bench stack,
# its compose project and the storage root are removed at the end; the
# device keeps running (`bash sim/device.sh down NAME` stops it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/local-stack.sh"

DEVICE="${EDGE_FLEET_BENCH_DEVICE:-sim-edge-04}"
ROUNDS="${EDGE_FLEET_BENCH_ROUNDS:-1}"
STACK=bench
PROJECT=edge-fleet-bench
BENCH_DIR="$EDGE_FLEET_CACHE/bench"
CONFIG_FILE="$LOCAL_STACK_DIR/Pulumi.$STACK.yaml"
COMPOSE_FILE="$BENCH_DIR/docker-compose.yml"
STORAGE_ROOT="/var/lib/edge-fleet-sim/$DEVICE/bench"
HEALTH_TIMEOUT=900
CHANGED_TAG=1.1.0

case "$DEVICE" in sim-edge-01 | sim-edge-02 | sim-edge-03) die "$DEVICE belongs to npm start or the e2e tests; pick another device" ;; esac
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "EDGE_FLEET_BENCH_ROUNDS must be a positive integer"

# --- setup -------------------------------------------------------------------

ensure_node_modules
bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh"
COMPOSE_BIN=$(bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh" compose | tail -n 1)
ensure_simulation "$DEVICE"
ensure_stack_dir
rm -rf "$BENCH_DIR" && mkdir -p "$BENCH_DIR"
bash "$EDGE_FLEET_ROOT/sim/device.sh" env "$DEVICE" >"$BENCH_DIR/device.json"
dev() { jq -r "$1" "$BENCH_DIR/device.json"; }
SOCKET_HOST=$(dev .dockerHost)
SSH_URL=$(dev .sshUrl)
# The device's ssh wrapper (pinned host key, deploy key); the docker CLI has
# no option for ssh flags, it runs the first `ssh` on PATH.
SSH_PATH="$(dev .stateDir)/bin:$PATH"

# A docker client config of our own: the compose plugin and the registry
# login, in a temporary directory rather than ~/.docker.
# Only compose gets it: the Pulumi provider is given its registry login by
# the program and should see nothing else.
WORK=$(mktemp -d)
chmod 700 "$WORK"
COMPOSE_DOCKER_CONFIG="$WORK/docker"
mkdir -p "$COMPOSE_DOCKER_CONFIG/cli-plugins"
ln -s "$COMPOSE_BIN" "$COMPOSE_DOCKER_CONFIG/cli-plugins/docker-compose"
DOCKER_CONFIG="$COMPOSE_DOCKER_CONFIG" docker --host "$SOCKET_HOST" login --username "$(dev .registry.username)" \
    --password-stdin "$(dev .registry.server)" <"$(dev .registry.passwordFile)" >/dev/null 2>&1 || die "docker login to the registry failed"
# What watchtower gets as its /config/config.json (compose copies it from
# this variable into the container, as Pulumi uploads it).
REGISTRY_CONFIG_JSON=$(jq -c '{auths: .auths}' "$COMPOSE_DOCKER_CONFIG/config.json")

# The device's daemon through its socket: for resetting it and polling health,
# the same for both tools and not part of any figure.
dk() { docker --host "$SOCKET_HOST" "$@"; }

# docker compose on the device over SSH, as the Pulumi provider reaches it.
compose() { # compose [--project-name P | --file F] COMMAND ARG...
    PATH="$SSH_PATH" DOCKER_HOST="$SSH_URL" DOCKER_CONFIG="$COMPOSE_DOCKER_CONFIG" \
        EDGE_FLEET_REGISTRY_CONFIG_JSON="$REGISTRY_CONFIG_JSON" docker compose --progress plain --ansi never "$@"
}

stack() { # stack COMMAND... ARG...: a pulumi command on the bench stack and its config file
    pulumi --cwd "$EDGE_FLEET_ROOT" "$@" --stack "$STACK" --config-file "$CONFIG_FILE" --non-interactive
}

stack_exists() {
    pulumi --cwd "$EDGE_FLEET_ROOT" stack ls --json 2>/dev/null | jq -e --arg s "$STACK" 'any(.[]; .name == $s)' >/dev/null
}

write_stack_config() {
    rm -f "$CONFIG_FILE"
    node "$EDGE_FLEET_ROOT/scripts/bench/stack-config.mjs" "$EDGE_FLEET_ROOT/Pulumi.local.yaml" "$CONFIG_FILE" "$BENCH_DIR/device.json" "$STORAGE_ROOT"
    ensure_stack "$STACK"
    # Through stdin, never argv.
    stack config set --secret sshPrivateKey <"$(dev .privateKeyPath)"
    stack config set --secret registryToken <"$(dev .registry.passwordFile)"
}

set_tv_api_tag() { # set_tv_api_tag TAG|"": pins tv_api to TAG, or back to the release tag
    if [ -n "$1" ]; then
        stack config set --path release.services.tv_api.tag "$1"
    else
        stack config rm --path release.services >/dev/null 2>&1 || true
    fi
}

generate_compose_file() { # prints the number of services
    node "$EDGE_FLEET_ROOT/scripts/bench/run-ts.cjs" "$EDGE_FLEET_ROOT/scripts/bench/compose-file.ts" \
        "$CONFIG_FILE" "$STACK" "$DEVICE" "$PROJECT" "$COMPOSE_FILE"
}

# Removes both tools' deployments. Also run first, after an interrupted run.
teardown() {
    # By project name, so it works without the compose file (an interrupted run's).
    (cd "$WORK" && compose --project-name "$PROJECT" down --remove-orphans) >>"$BENCH_DIR/teardown.log" 2>&1 || true
    if stack_exists; then
        if [ -f "$CONFIG_FILE" ]; then
            stack destroy --yes --suppress-progress >>"$BENCH_DIR/teardown.log" 2>&1 || true
        else
            pulumi --cwd "$EDGE_FLEET_ROOT" destroy --stack "$STACK" --non-interactive --yes --suppress-progress >>"$BENCH_DIR/teardown.log" 2>&1 || true
        fi
    fi
}

# A device as a new one would be: no containers or networks of the stack,
# no images, no storage. Both tools then pull everything.
reset_device() {
    local ids
    ids=$(dk ps -aq --filter "label=edge-fleet.stack=$STACK")
    # shellcheck disable=SC2086 # lists of IDs
    [ -z "$ids" ] || dk rm -f $ids >/dev/null
    ids=$(dk network ls -q --filter "label=edge-fleet.stack=$STACK")
    # shellcheck disable=SC2086
    [ -z "$ids" ] || dk network rm $ids >/dev/null
    dk image prune --all --force >/dev/null
    rm -rf "$STORAGE_ROOT"
    [ -z "$(dk ps -aq)" ] || die "$DEVICE still runs containers that are not the bench's: $(dk ps -a --format '{{.Names}}' | paste -sd' ')"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "${TIMED_PID:-}" ]; then
        # Interrupted while a deploy runs: let it stop cleanly (Pulumi cancels
        # and saves its state on SIGINT) before tearing down.
        log "stopping the running deploy (Pulumi first finishes the operations under way, possibly minutes)"
        pkill -INT -P "$TIMED_PID" 2>/dev/null || true
        wait "$TIMED_PID" 2>/dev/null || true
    fi
    log "cleaning up: compose down, pulumi destroy, stack rm"
    teardown
    if stack_exists; then pulumi --cwd "$EDGE_FLEET_ROOT" stack rm "$STACK" --yes --force --preserve-config --non-interactive >/dev/null 2>&1 || true; fi
    rm -f "$CONFIG_FILE"
    rm -rf "${EDGE_FLEET_SSH_DIR:-$HOME/.edge-fleet/ssh}/$STACK" "$STORAGE_ROOT" "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- measuring ---------------------------------------------------------------

# Waits until the stack's N containers are all healthy (and tv_api runs TAG,
# if given); fails after HEALTH_TIMEOUT seconds.
wait_healthy() { # wait_healthy N [TAG]
    local n=$1 tag=${2:-} deadline=$(( $(date +%s) + HEALTH_TIMEOUT )) lines
    while :; do
        lines=$(dk ps -a --filter "label=edge-fleet.stack=$STACK" --format '{{.Names}} {{.Label "edge-fleet.image"}} {{.Status}}' 2>/dev/null || true)
        if [ "$(grep -c '(healthy)' <<<"$lines")" -eq "$n" ] && [ "$(grep -c . <<<"$lines")" -eq "$n" ] &&
            { [ -z "$tag" ] || grep -q "^tv_api [^ ]*:$tag " <<<"$lines"; }; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "not healthy after ${HEALTH_TIMEOUT}s:"; printf '%s\n' "$lines" >&2; return 1
        fi
        sleep 1
    done
}

# Samples the peak RSS (VmHWM) of a process and all its descendants once a
# second while it runs, with shell builtins only (no forks that would
# compete with what is measured); writes "PID COMM KiB" per process. The
# tree comes from /proc/*/stat (this kernel has no /proc/PID/task/*/children).
peak_rss_sampler() { # peak_rss_sampler PID OUT
    local root=$1 out=$2 f line ppid p k v
    local -A peak=() comm=() kids=()
    while [ -e "/proc/$root/status" ]; do
        kids=()
        for f in /proc/[0-9]*/stat; do
            # Processes come and go while we look: a vanished one is skipped.
            read -r line 2>/dev/null <"$f" || continue
            read -r _ ppid _ <<<"${line##*) }"
            kids[$ppid]+=" ${line%% *}"
        done
        local queue=("$root")
        while [ ${#queue[@]} -gt 0 ]; do
            p=${queue[0]}; queue=("${queue[@]:1}")
            while read -r k v _; do
                # Name as of now: a process may have exec'd since last time.
                case $k in Name:) comm[$p]=$v ;; VmHWM:) peak[$p]=$v ;; esac
            done 2>/dev/null <"/proc/$p/status" || true
            # shellcheck disable=SC2206 # a list of PIDs
            queue+=(${kids[$p]:-})
        done
        sleep 1
    done
    for p in "${!peak[@]}"; do printf '%s %s %s\n' "$p" "${comm[$p]:-?}" "${peak[$p]}"; done >"$out"
}

# "MAIN X MiB; others: COMM Y MiB xN, ..." from a sampler's output: the peak
# of the tool's own process, then the largest peak of each other kind of
# process and how many there were (not a sum: `pulumi up` runs its preview
# and then its update, each with its own program, language host and
# provider, one after the other). The shell that started the tool is left out.
rss_summary() { # rss_summary FILE MAIN_COMM
    awk -v main="$2" '
        $2 == "bash" { next }
        # Names as the kernel keeps them (15 characters); node calls itself MainThread.
        { sub(/^MainThread$/, "node", $2); sub(/^pulumi-resource$/, "docker-provider", $2); sub(/^pulumi-language$/, "language-host", $2) }
        { n[$2]++; if ($3 > kb[$2]) kb[$2] = $3 }
        END {
            printf "%s %.0f MiB; others, largest each:", main, kb[main] / 1024
            sep = " "
            for (c in kb) if (c != main) { printf "%s%s %.0f MiB%s", sep, c, kb[c] / 1024, (n[c] > 1 ? " x" n[c] : ""); sep = ", " }
            printf "\n"
        }' "$1"
}

LAST_SECONDS=""
# Runs a deploy command, then waits for health; LAST_SECONDS is the time from
# the start of the command until every container is healthy. With RSS=FILE in
# the environment, also samples the peak memory of the command's processes.
timed() { # timed NAME N_SERVICES TAG CMD...
    local name=$1 n=$2 tag=$3; shift 3
    local logf="$ROUND_DIR/$name.log" t0 pid sampler="" rc=0
    t0=$(now)
    "$@" >"$logf" 2>&1 &
    pid=$!
    TIMED_PID=$pid
    if [ -n "${RSS:-}" ]; then peak_rss_sampler "$pid" "$RSS" & sampler=$!; fi
    wait "$pid" || rc=$?
    TIMED_PID=""
    [ -z "$sampler" ] || wait "$sampler"
    if [ "$rc" -ne 0 ]; then tail -n 30 "$logf" >&2; die "$name failed (exit $rc); log: $logf"; fi
    wait_healthy "$n" "$tag" || die "$name: containers not healthy; log: $logf"
    LAST_SECONDS=$(elapsed "$t0")
    log "$name: ${LAST_SECONDS}s"
}

# What a deploy made, per container, in the terms both tools declare: image,
# command, environment, labels (without compose's own), limits, restart
# policy, healthcheck, mounts, networks and aliases, ports, logging, security
# options, stop timeout, runtime. Written after each cold deploy; the two must match.
# Compared as sets of names: compose repeats the service name among the
# aliases, and Docker adds each container's short ID; both mean nothing here.
# shellcheck disable=SC2016 # jq's variables, not the shell's
INSPECT_PROJECTION='map(.Id[0:12] as $shortId | {
    key: (.Name | ltrimstr("/")),
    value: {
        image: .Config.Image, cmd: .Config.Cmd, env: (.Config.Env | sort),
        labels: (.Config.Labels | with_entries(select(.key | startswith("com.docker.compose.") | not))),
        healthcheck: .Config.Healthcheck, stopTimeout: .Config.StopTimeout,
        memory: .HostConfig.Memory, memorySwap: .HostConfig.MemorySwap, nanoCpus: .HostConfig.NanoCpus,
        restart: .HostConfig.RestartPolicy, log: .HostConfig.LogConfig, securityOpt: .HostConfig.SecurityOpt,
        privileged: .HostConfig.Privileged, runtime: .HostConfig.Runtime, ports: (.HostConfig.PortBindings // {}),
        mounts: (.Mounts | map({Type, Source, Destination, RW}) | sort_by(.Destination)),
        networks: (.NetworkSettings.Networks | with_entries(.value = (.value.Aliases // [] | map(select(. != $shortId)) | unique)))
    }
}) | from_entries'

save_deployment() { # save_deployment FILE
    local ids
    ids=$(dk ps -aq --filter "label=edge-fleet.stack=$STACK")
    # shellcheck disable=SC2086 # a list of IDs
    dk inspect $ids | jq -S "$INSPECT_PROJECTION" >"$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

print_table() { # print_table TITLE then pairs "figure|pulumi|compose"...
    printf '\n%s\n' "$1"; shift
    printf '%-34s | %9s | %9s | %6s\n' figure "pulumi s" "compose s" ratio
    printf '%-34s-+-%9s-+-%9s-+-%6s\n' "$(printf -- '-%.0s' {1..34})" "---------" "---------" "------"
    local row f p c
    for row in "$@"; do
        IFS='|' read -r f p c <<<"$row"
        printf '%-34s | %9s | %9s | %6s\n' "$f" "$p" "$c" "$(ratio "$p" "$c")"
    done
}

# --- the runs ----------------------------------------------------------------

log "benchmark on $DEVICE, $ROUNDS round(s); logs in $BENCH_DIR"
teardown
declare -a P_COLD P_NOOP P_CHANGE P_DOWN C_COLD C_NOOP C_CHANGE C_DOWN
for round in $(seq 1 "$ROUNDS"); do
    ROUND_DIR="$BENCH_DIR/round-$round"
    mkdir -p "$ROUND_DIR"

    # Pulumi: a new stack each round, as on a new device.
    log "round $round: pulumi"
    stack_exists && pulumi --cwd "$EDGE_FLEET_ROOT" stack rm "$STACK" --yes --force --preserve-config --non-interactive >/dev/null
    write_stack_config
    N=$(generate_compose_file)
    reset_device
    RSS="$ROUND_DIR/pulumi-cold.rss" timed pulumi-cold "$N" "" stack up --yes --suppress-progress
    P_COLD+=("$LAST_SECONDS")
    save_deployment "$ROUND_DIR/pulumi.containers.json"
    timed pulumi-noop "$N" "" stack up --yes --suppress-progress
    P_NOOP+=("$LAST_SECONDS")
    set_tv_api_tag "$CHANGED_TAG"
    timed pulumi-change "$N" "$CHANGED_TAG" stack up --yes --suppress-progress
    P_CHANGE+=("$LAST_SECONDS")
    t0=$(now)
    stack destroy --yes --suppress-progress >"$ROUND_DIR/pulumi-destroy.log" 2>&1 || die "pulumi destroy failed; log: $ROUND_DIR/pulumi-destroy.log"
    P_DOWN+=("$(elapsed "$t0")")

    # Compose: the same plan, as a compose file.
    log "round $round: docker compose"
    set_tv_api_tag ""
    t0=$(now)
    N=$(generate_compose_file)
    GEN_SECONDS=$(elapsed "$t0")
    cp "$COMPOSE_FILE" "$ROUND_DIR/docker-compose.cold.yml"
    reset_device
    RSS="$ROUND_DIR/compose-cold.rss" timed compose-cold "$N" "" compose --file "$COMPOSE_FILE" up --detach --wait --wait-timeout "$HEALTH_TIMEOUT"
    C_COLD+=("$LAST_SECONDS")
    save_deployment "$ROUND_DIR/compose.containers.json"
    timed compose-noop "$N" "" compose --file "$COMPOSE_FILE" up --detach --wait --wait-timeout "$HEALTH_TIMEOUT"
    C_NOOP+=("$LAST_SECONDS")
    set_tv_api_tag "$CHANGED_TAG"
    generate_compose_file >/dev/null
    timed compose-change "$N" "$CHANGED_TAG" compose --file "$COMPOSE_FILE" up --detach --wait --wait-timeout "$HEALTH_TIMEOUT"
    C_CHANGE+=("$LAST_SECONDS")
    t0=$(now)
    compose --file "$COMPOSE_FILE" down >"$ROUND_DIR/compose-down.log" 2>&1 || die "compose down failed; log: $ROUND_DIR/compose-down.log"
    C_DOWN+=("$(elapsed "$t0")")
    set_tv_api_tag ""

    i=$((round - 1))
    print_table "round $round on $DEVICE ($N services; compose over $SSH_URL, as the Pulumi provider)" \
        "cold deploy -> all healthy|${P_COLD[$i]}|${C_COLD[$i]}" \
        "no-op deploy|${P_NOOP[$i]}|${C_NOOP[$i]}" \
        "tv_api 1.0.0 -> $CHANGED_TAG -> healthy|${P_CHANGE[$i]}|${C_CHANGE[$i]}" \
        "teardown (destroy / down)|${P_DOWN[$i]}|${C_DOWN[$i]}"
    printf 'peak RSS during the cold deploy, sampled each second:\n'
    printf '  pulumi:  %s\n' "$(rss_summary "$ROUND_DIR/pulumi-cold.rss" pulumi)"
    printf '  compose: %s\n' "$(rss_summary "$ROUND_DIR/compose-cold.rss" docker-compose)"
    printf 'compose file generation (not counted): %ss\n' "$GEN_SECONDS"
    if diff -u "$ROUND_DIR/pulumi.containers.json" "$ROUND_DIR/compose.containers.json" >"$ROUND_DIR/containers.diff"; then
        printf 'containers deployed by both: identical in image, command, env, labels, limits, restart, healthcheck,\n'
        printf '  mounts, networks and aliases, ports, logging, security options, stop timeout, runtime\n'
    else
        printf 'WARNING: the two tools deployed different containers; see %s\n' "$ROUND_DIR/containers.diff"
    fi
done

if [ "$ROUNDS" -gt 1 ]; then
    mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
    print_table "mean of $ROUNDS rounds" \
        "cold deploy -> all healthy|$(mean "${P_COLD[@]}")|$(mean "${C_COLD[@]}")" \
        "no-op deploy|$(mean "${P_NOOP[@]}")|$(mean "${C_NOOP[@]}")" \
        "tv_api 1.0.0 -> $CHANGED_TAG -> healthy|$(mean "${P_CHANGE[@]}")|$(mean "${C_CHANGE[@]}")" \
        "teardown (destroy / down)|$(mean "${P_DOWN[@]}")|$(mean "${C_DOWN[@]}")"
fi
printf '\nCold deploys are dominated by the seed'"'"'s healthcheck intervals along the\n'
printf 'dependency chain (playlist_manager: first check after 120 s), the same for both tools.\n'
