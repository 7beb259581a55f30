#!/usr/bin/env bash
# `npm start`: deploys the `local` stack to the simulated edge device on this
# machine, setting up whatever is missing first. Safe to run again: a second
# run finds everything built and deployed and changes nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=local-stack.sh
source "$(dirname "$0")/local-stack.sh"

t_start=$(now)
ensure_node_modules
bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh"
mapfile -t devices < <(local_devices)
ensure_simulation "${devices[@]}"
write_local_config "${devices[@]}"

t_up=$(now)
# Through the rollout command rather than a bare `pulumi up`: it refreshes from
# the device first (hand changes are put back), recovers from a run that was
# killed (stale lock, pending operations, a container created but never
# recorded), gates on health and rolls back a release that fails.
log "edge-fleet rollout --stack local"
node "$EDGE_FLEET_ROOT/bin/edge-fleet.cjs" rollout --stack local --config-file "$LOCAL_CONFIG_FILE"
up_s=$(elapsed "$t_up")

wait_all_healthy 300 "${devices[@]}"
print_status_table "${devices[@]}"
printf '\nrollout: %ss; npm start in all: %ss\n' "$up_s" "$(elapsed "$t_start")"
