#!/usr/bin/env bash
# `npm test`: the whole suite. The TypeScript check and the linters
# (scripts/lint.sh), unit tests (mocks, no device), the Go tests of
# the self-monitor and the stand-ins, then real deploys with the real Pulumi
# engine and docker provider over SSH to simulated devices.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=local-stack.sh
source "$(dirname "$0")/local-stack.sh"

# The e2e tests' devices: sim-edge-01 stays free for `npm start`, sim-edge-04
# for the bench; 05-08 form the rollout tests' four-device stack; 14 is
# restarted and rebooted by the reboot tests; 15 and 16 carry the jetson and
# x86 GPU stand-ins for the GPU classes' tests; 17 runs the hardening tests;
# 18 the policy tests; 19-20 the preview tests' stack; 21 the team-state
# tests, whose stack lives in PostgreSQL (sim/postgres.sh); 22 and 24 the
# sharded fleet's two shard stacks; 23 runs a current Docker Engine, built
# from Go modules on first use (10-13 are the bench's rollout devices, 09 its
# current-engine device).
E2E_DEVICES=(sim-edge-02 sim-edge-03 sim-edge-05 sim-edge-06 sim-edge-07 sim-edge-08 sim-edge-14 sim-edge-15:jetson sim-edge-16:x86 sim-edge-17 sim-edge-18 sim-edge-19 sim-edge-20 sim-edge-21 sim-edge-22 sim-edge-23:engine=current sim-edge-24)

t0=$(now)
ensure_node_modules
(cd "$EDGE_FLEET_ROOT" && tsc --noEmit -p .)
bash "$EDGE_FLEET_ROOT/scripts/lint.sh"
results="$EDGE_FLEET_CACHE/test-results"
rm -rf "$results" && mkdir -p "$results"
# JSON reports beside the usual output, for the one-line summary at the end.
vitest_run() { # vitest_run PROJECT
    (cd "$EDGE_FLEET_ROOT" && vitest run --project "$1" --reporter=default --reporter=json --outputFile="$results/$1.json")
}
log "unit tests"
vitest_run unit

log "Go tests (self-monitor, stand-ins)"
for m in images/self-monitor sim/images/standin; do
    (cd "$EDGE_FLEET_ROOT/$m" && GOFLAGS=-mod=mod go test ./...)
done

bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh"
log "Go tests (docker provider mapping)"
# After the toolchain build, so the provider's packages are compiled once.
(cd "$EDGE_FLEET_ROOT/toolchain/docker-provider" && GOFLAGS=-mod=mod go test -tags no_compose,grpcnotrace ./bridge)
ensure_simulation "${E2E_DEVICES[@]}"
bash "$EDGE_FLEET_ROOT/sim/postgres.sh" up
# The e2e stacks' secrets are encrypted with the same passphrase file as the
# local stack's; on a machine where `npm start` never ran it does not exist yet.
ensure_stack_dir
: >"$EDGE_FLEET_CACHE/e2e-transcript.log"
log "end-to-end tests"
vitest_run e2e
# The ${...} below are JavaScript's, not the shell's.
# shellcheck disable=SC2016
node -e '
    let passed = 0, failed = 0;
    for (const f of process.argv.slice(1)) {
        const r = require(f);
        passed += r.numPassedTests;
        failed += r.numFailedTests;
    }
    console.log(`${passed} passed, ${failed} failed`);
' "$results/unit.json" "$results/e2e.json"
log "all tests passed in $(elapsed "$t0")s"
