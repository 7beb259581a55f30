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
log "pulumi up --stack local"
pulumi --cwd "$EDGE_FLEET_ROOT" up --stack local --config-file "$LOCAL_CONFIG_FILE" --yes --suppress-progress
up_s=$(elapsed "$t_up")

wait_all_healthy 300 "${devices[@]}"
print_status_table "${devices[@]}"
printf '\npulumi up: %ss; npm start in all: %ss\n' "$up_s" "$(elapsed "$t_start")"
