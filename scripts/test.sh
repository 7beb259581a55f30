#!/usr/bin/env bash
# `npm test`: the whole suite. Unit tests (mocks, no device), the Go tests of
# the self-monitor and the stand-ins, then real deploys with the real Pulumi
# engine and docker provider over SSH to simulated devices.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/local-stack.sh"

# The e2e tests' devices: sim-edge-01 stays free for `npm start`.
E2E_DEVICES=(sim-edge-02 sim-edge-03)

t0=$(now)
ensure_node_modules
(cd "$EDGE_FLEET_ROOT" && tsc --noEmit -p .)
log "unit tests"
(cd "$EDGE_FLEET_ROOT" && vitest run --project unit)

log "Go tests (self-monitor, stand-ins)"
for m in images/self-monitor sim/images/standin; do
    (cd "$EDGE_FLEET_ROOT/$m" && GOFLAGS=-mod=mod go test ./...)
done

bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh"
ensure_simulation "${E2E_DEVICES[@]}"
: >"$EDGE_FLEET_CACHE/e2e-transcript.log"
log "end-to-end tests"
(cd "$EDGE_FLEET_ROOT" && vitest run --project e2e)
log "all tests passed in $(elapsed "$t0")s"
