# Helpers for the `local` stack: the simulated device(s), the registry and the
# generated stack config. Sourced by start.sh, test.sh and the e2e tests' setup.
# shellcheck shell=bash

LOCAL_STACK_DIR="$EDGE_FLEET_CACHE/stacks"
LOCAL_CONFIG_FILE="$LOCAL_STACK_DIR/Pulumi.local.yaml"
export PULUMI_CONFIG_PASSPHRASE_FILE="${PULUMI_CONFIG_PASSPHRASE_FILE:-$LOCAL_STACK_DIR/passphrase}"

# Devices named in Pulumi.local.yaml.
local_devices() {
    node -e 'const Y=require("yaml");const d=Y.parse(require("fs").readFileSync(process.argv[1],"utf8")).config["edge-fleet:devices"]||[];for(const x of d)console.log(x.name)' \
        "$EDGE_FLEET_ROOT/Pulumi.local.yaml"
}

# Starts the registry and the devices, pushes the stand-in images; idempotent.
# A device is NAME, then optionally `:CLASS` for the GPU stand-ins of a
# hardware class (sim/device.sh up NAME --gpu CLASS) and `:engine=KIND` for
# its Docker Engine (--engine KIND), e.g. sim-edge-23:engine=current.
ensure_simulation() {
    local t0; t0=$(now)
    bash "$EDGE_FLEET_ROOT/sim/registry.sh" up >/dev/null
    local d opt opts parts
    for d in "$@"; do
        opts=()
        IFS=: read -ra parts <<<"$d"
        for opt in "${parts[@]:1}"; do
            case "$opt" in
                engine=*) opts+=(--engine "${opt#engine=}") ;;
                *) opts+=(--gpu "$opt") ;;
            esac
        done
        bash "$EDGE_FLEET_ROOT/sim/device.sh" up "${parts[0]}" "${opts[@]}" >/dev/null
    done
    bash "$EDGE_FLEET_ROOT/sim/images/build.sh" >/dev/null
    log "simulation ready in $(elapsed "$t0")s"
}

# The directory of generated stack files, and the passphrase of their secrets.
ensure_stack_dir() {
    mkdir -p "$LOCAL_STACK_DIR" && chmod 700 "$LOCAL_STACK_DIR"
    [ -s "$PULUMI_CONFIG_PASSPHRASE_FILE" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$PULUMI_CONFIG_PASSPHRASE_FILE")
}

# Writes the generated config and (re)sets its secrets from the simulation.
write_local_config() {
    ensure_stack_dir
    local envs=() d f
    for d in "$@"; do
        f="$LOCAL_STACK_DIR/$d.env.json"
        bash "$EDGE_FLEET_ROOT/sim/device.sh" env "$d" >"$f"
        envs+=("$f")
    done
    node "$EDGE_FLEET_ROOT/scripts/local-stack-config.mjs" "$EDGE_FLEET_ROOT/Pulumi.local.yaml" "$LOCAL_CONFIG_FILE" "${envs[@]}"
    ensure_stack local
    local first="${envs[0]}"
    # Values go through stdin, never through argv, so they do not show in `ps`.
    pulumi --cwd "$EDGE_FLEET_ROOT" config set --stack local --config-file "$LOCAL_CONFIG_FILE" --secret sshPrivateKey \
        <"$(jq -r .privateKeyPath "$first")"
    pulumi --cwd "$EDGE_FLEET_ROOT" config set --stack local --config-file "$LOCAL_CONFIG_FILE" --secret registryToken \
        <"$(jq -r .registry.passwordFile "$first")"
}

# Polls every stack container on the devices until none is starting or
# unhealthy; a no-op `pulumi up` does not look at health, this does.
wait_all_healthy() { # wait_all_healthy TIMEOUT_SECONDS DEVICE...
    local timeout=$1; shift
    local deadline=$(( $(date +%s) + timeout )) d sock bad
    while :; do
        bad=""
        for d in "$@"; do
            sock=$(jq -r .dockerHost "$LOCAL_STACK_DIR/$d.env.json")
            bad+=$(docker --host "$sock" ps -a --filter label=edge-fleet.stack=local \
                --format '{{.Names}} {{.Status}}' | grep -v '(healthy)' | sed "s/^/$d: /" || true)
        done
        [ -z "$bad" ] && return 0
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "not healthy after ${timeout}s:"; printf '%s\n' "$bad" >&2; return 1
        fi
        sleep 3
    done
}

# The table `npm start` ends with: every container, its image digest and health.
print_status_table() {
    local outputs
    outputs=$(pulumi --cwd "$EDGE_FLEET_ROOT" stack output --stack local --json deviceOutputs)
    local d sock
    for d in "$@"; do
        sock=$(jq -r .dockerHost "$LOCAL_STACK_DIR/$d.env.json")
        printf '\n%s  (tv_api: %s)\n' "$d" "$(jq -r --arg d "$d" '.[] | select(.device == $d) | .tvApiUrl' <<<"$outputs")"
        printf '%-18s %-22s %-10s %s\n' SERVICE CONTAINER HEALTH "IMAGE DIGEST"
        jq -r --arg d "$d" '.[] | select(.device == $d) | .imageDigests | to_entries[] | "\(.key) \(.value)"' <<<"$outputs" |
            while read -r svc digest; do
                local health id
                health=$(docker --host "$sock" inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$svc" 2>/dev/null || echo missing)
                id=$(docker --host "$sock" inspect -f '{{.Id}}' "$svc" 2>/dev/null | cut -c1-12)
                printf '%-18s %-22s %-10s %s\n' "$svc" "${id:--}" "$health" "${digest#*@}"
            done
    done
}
