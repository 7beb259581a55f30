#!/usr/bin/env bash
# `npm run bench`: the plumbing before the bench itself (scripts/bench/bench.ts,
# which measures, prints and writes the results; see its header): npm
# dependencies, the Pulumi toolchain, the registry, the stand-in images and
# the bench's simulated device, then the TypeScript bench in their place.
#
# Environment: EDGE_FLEET_BENCH_DEVICE (default sim-edge-04: sim-edge-01 is
# `npm start`'s, 02 and 03 are the e2e tests'), EDGE_FLEET_BENCH_ROUNDS (1),
# EDGE_FLEET_BENCH_SCENARIOS (all). Results, logs and generated files go to
# $EDGE_FLEET_CACHE/bench/.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=local-stack.sh
source "$(dirname "$0")/local-stack.sh"

DEVICE="${EDGE_FLEET_BENCH_DEVICE:-sim-edge-04}"
case "$DEVICE" in sim-edge-01 | sim-edge-02 | sim-edge-03) die "$DEVICE belongs to npm start or the e2e tests; pick another device" ;; esac

ensure_node_modules
bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh"
# fleet-scale previews devices that were never deployed: it needs no device
# and no registry, so run on its own it starts neither.
if [ "${EDGE_FLEET_BENCH_SCENARIOS:-}" != fleet-scale ]; then
    ensure_simulation "$DEVICE"
fi
ensure_stack_dir

export EDGE_FLEET_BENCH_DEVICE="$DEVICE" EDGE_FLEET_STACK_DIR="$LOCAL_STACK_DIR"
exec node "$EDGE_FLEET_ROOT/scripts/bench/run-ts.cjs" "$EDGE_FLEET_ROOT/scripts/bench/bench.ts"
