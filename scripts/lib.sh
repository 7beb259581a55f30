# shellcheck shell=bash
# Shared settings for the project's scripts. Source it; do not run it.
# Everything the scripts build or start lives under EDGE_FLEET_CACHE, outside
# the work tree, so a fresh clone reuses what an earlier run already built.

EDGE_FLEET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EDGE_FLEET_ROOT
export EDGE_FLEET_CACHE="${EDGE_FLEET_CACHE:-$HOME/.cache/edge-fleet}"
export EDGE_FLEET_BIN="$EDGE_FLEET_CACHE/bin"

# Pulumi runs fully offline: a file backend, no update checks, and plugins
# only from our own builds (automatic acquisition would try a download site).
export PULUMI_HOME="${PULUMI_HOME:-$EDGE_FLEET_CACHE/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$EDGE_FLEET_CACHE/state}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$EDGE_FLEET_CACHE/state" "$EDGE_FLEET_BIN"
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# Refresh and destroy run the program first: it writes the deploy keys that
# ssh needs for as long as the run lasts (ssh/keyFiles.ts).
export PULUMI_RUN_PROGRAM="${PULUMI_RUN_PROGRAM:-true}"
# The program is transpiled, not type-checked, on each run (`npm test` checks
# the types): about a second less on the first run after a change. Pulumi.yaml
# cannot say it to the language host built here (see Pulumi.yaml).
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
# Node's on-disk cache of compiled code from each Node.js process's first
# line: the program turns it on itself (bin/compile-cache.cjs), but only after
# Pulumi's runtime, gRPC and protobuf were compiled again on every run (about
# 0.2 s of each program's and policy pack's start). Holds code, no data.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$EDGE_FLEET_CACHE/node-compile-cache}"

# The npm package `node` provides a current Node.js; npm scripts already put
# node_modules/.bin first, this does the same for scripts run directly.
export PATH="$EDGE_FLEET_BIN:$EDGE_FLEET_ROOT/node_modules/.bin:$PATH"

log() { printf '[edge-fleet] %s\n' "$*" >&2; }
die() { printf '[edge-fleet] error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with millisecond precision, for the figures we print.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Installs Debian packages that are missing, quietly; we run as root in CI.
ensure_packages() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    if [ ! -f "$EDGE_FLEET_CACHE/.apt-updated" ] || [ -n "$(find "$EDGE_FLEET_CACHE/.apt-updated" -mmin +1440 2>/dev/null)" ]; then
        apt-get update -qq >/dev/null
        mkdir -p "$EDGE_FLEET_CACHE" && touch "$EDGE_FLEET_CACHE/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Installs the npm dependencies from the lock file when node_modules is absent or stale.
ensure_node_modules() {
    local stamp="$EDGE_FLEET_ROOT/node_modules/.edge-fleet-lock"
    if [ -f "$stamp" ] && cmp -s "$stamp" "$EDGE_FLEET_ROOT/package-lock.json"; then return 0; fi
    log "installing npm dependencies (npm ci)"
    (cd "$EDGE_FLEET_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$EDGE_FLEET_ROOT/package-lock.json" "$stamp"
}

# Creates a stack in the backend if it does not exist. `pulumi stack init`
# writes a Pulumi.<stack>.yaml next to Pulumi.yaml; doing it in a scratch copy
# of the project keeps the repository's stack files untouched (our stacks
# carry their own config file, passed with --config-file).
ensure_stack() { # ensure_stack NAME
    local scratch
    scratch=$(mktemp -d)
    cp "$EDGE_FLEET_ROOT/Pulumi.yaml" "$scratch/"
    pulumi stack select --create "$1" --non-interactive --cwd "$scratch" >/dev/null
    rm -rf "$scratch"
}
