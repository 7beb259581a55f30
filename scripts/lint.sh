#!/usr/bin/env bash
# `npm run lint`, also run by `npm test` right after the TypeScript check:
# ESLint over the TypeScript and the scripts' JavaScript, gofmt and go vet over
# the Go modules, shellcheck over the shell scripts, actionlint over the
# GitHub workflows. Any finding fails it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$EDGE_FLEET_ROOT"

t0=$(now)
ensure_node_modules
log "lint: eslint"
eslint --max-warnings=0 .

log "lint: gofmt, go vet"
unformatted=$(git ls-files -z '*.go' | xargs -0 gofmt -l)
[ -z "$unformatted" ] || die "gofmt would change these files (run gofmt -w on them):
$unformatted"
for m in images/self-monitor sim/images/standin sim/images/builder; do
    (cd "$m" && GOFLAGS=-mod=mod go vet ./...)
done
# Only the provider's own mapping package; the rest of the module is upstream
# code. Same build tags as build.sh. The first run compiles the provider's
# dependencies (minutes); later runs, and the toolchain build, reuse the cache.
(cd toolchain/docker-provider && GOFLAGS=-mod=mod go vet -tags no_compose,grpcnotrace ./bridge)

log "lint: shellcheck"
ensure_packages shellcheck
mapfile -t scripts < <(git ls-files '*.sh')
shellcheck -x "${scripts[@]}" .ci/run policy/analyzer

log "lint: actionlint"
# Built from its Go module and cached like the Pulumi toolchain (first run only).
bash "$EDGE_FLEET_ROOT/scripts/toolchain.sh" actionlint
actionlint -no-color

log "lint passed in $(elapsed "$t0")s"
