#!/usr/bin/env bash
# Builds the Pulumi CLI, the Node.js language host and the docker provider
# plugin from Go modules (no download site is used), caching each binary under
# a key made of its inputs, so a second run only checks hashes.
# `toolchain.sh compose` builds docker compose v2 the same way (for the bench),
# `toolchain.sh actionlint` the workflows' linter (for scripts/lint.sh),
# `toolchain.sh docker-engine` a current Docker Engine (for simulated devices
# started with `--engine current`).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# Builds a Go tool unless the cache holds it already; sets GO_TOOL_PATH.
build_go_binary() { # name package version-ldflag module-dir binary
    local name=$1 pkg=$2 ldflags=$3 dir=$4 bin=$5
    local key out
    key=$( (cat "$dir/go.mod" "$dir/go.sum" "$dir"/*.go; go version) | sha256sum | cut -c1-16)
    out="$EDGE_FLEET_CACHE/toolchain/$name-$key"
    if [ ! -x "$out/$bin" ]; then
        local t0; t0=$(now)
        log "building $name from Go modules (first run only; a few minutes)"
        mkdir -p "$out.tmp"
        (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
            -ldflags "$ldflags" -o "$out.tmp/$bin" "$pkg")
        rm -rf "$out" && mv "$out.tmp" "$out"
        log "built $name in $(elapsed "$t0")s"
    fi
    GO_TOOL_PATH="$out/$bin"
}

build_go_tool() { # as build_go_binary, then linked into EDGE_FLEET_BIN
    build_go_binary "$@"
    ln -sfn "$GO_TOOL_PATH" "$EDGE_FLEET_BIN/$5"
}

# docker compose v2, only for `npm run bench` (Debian 12 ships compose 1.29,
# which has no `up --wait`). Not linked onto PATH, where it would pass for
# Debian's docker-compose; prints its path for the caller to install as a
# docker CLI plugin.
build_compose() {
    local dir="$EDGE_FLEET_ROOT/toolchain/compose" v
    v=$(module_version "$dir" github.com/docker/compose/v2)
    build_go_binary compose github.com/docker/compose/v2/cmd \
        "-w -X github.com/docker/compose/v2/internal.Version=$v" "$dir" docker-compose
    printf '%s\n' "$GO_TOOL_PATH"
}

# actionlint, the linter of .github/workflows; linked into EDGE_FLEET_BIN.
build_actionlint() {
    local dir="$EDGE_FLEET_ROOT/toolchain/actionlint" v
    v=$(module_version "$dir" github.com/rhysd/actionlint)
    build_go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint \
        "-w -X github.com/rhysd/actionlint.version=$v" "$dir" actionlint
}

# dockerd, containerd, its runc shim, runc and docker-proxy from Go modules
# (toolchain/docker-engine/build.sh), into a directory keyed by their inputs;
# prints that directory. Two devices brought up at once build it once.
build_docker_engine() {
    local dir="$EDGE_FLEET_ROOT/toolchain/docker-engine" key out
    key=$( (cd "$dir" && cat build.sh ./*/go.mod ./*/go.sum ./*/*.go; go version) | sha256sum | cut -c1-16)
    out="$EDGE_FLEET_CACHE/toolchain/docker-engine-$key"
    mkdir -p "$EDGE_FLEET_CACHE/toolchain"
    # cgo and a static link for the daemon, containerd and runc; runc's seccomp filter.
    ensure_packages gcc libc6-dev libseccomp-dev
    (
        flock 9
        if [ ! -x "$out/dockerd" ]; then
            local t0; t0=$(now)
            log "building a current Docker Engine from Go modules (first run only; up to 20 minutes on 2 cores)"
            rm -rf "$out.tmp"
            bash "$dir/build.sh" "$out.tmp" >&2
            rm -rf "$out" && mv "$out.tmp" "$out"
            log "built the Docker Engine in $(elapsed "$t0")s"
        fi
    ) 9>"$out.lock"
    printf '%s\n' "$out"
}

module_version() { # module-dir module-path
    awk -v m="$2" '$1 == m { print $2 } $2 == m { print $3 }' "$1/go.mod" | head -n 1
}

main() {
    command -v go >/dev/null || die "Go is required to build the Pulumi toolchain"
    mkdir -p "$EDGE_FLEET_BIN"
    local tc="$EDGE_FLEET_ROOT/toolchain" v
    v=$(module_version "$tc/pulumi-cli" github.com/pulumi/pulumi/pkg/v3)
    build_go_tool pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
        "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" "$tc/pulumi-cli" pulumi
    v=$(module_version "$tc/language-host" github.com/pulumi/pulumi/sdk/v3)
    build_go_tool language-host github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
        "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" "$tc/language-host" pulumi-language-nodejs
    # The CLI wants its language host next to its own (resolved) path; found
    # on PATH instead, it warns on every run.
    ln -sfn "$(readlink -f "$EDGE_FLEET_BIN/pulumi-language-nodejs")" "$(dirname "$(readlink -f "$EDGE_FLEET_BIN/pulumi")")/pulumi-language-nodejs"
    rm -f "$EDGE_FLEET_BIN/pulumi-language-nodejs"
    local dp="$tc/docker-provider" key out
    key=$( (find "$dp" -type f -not -path '*/build/*' | sort | xargs cat; go version) | sha256sum | cut -c1-16)
    out="$EDGE_FLEET_CACHE/toolchain/docker-provider-$key"
    if [ ! -x "$out/pulumi-resource-docker" ]; then
        bash "$dp/build.sh" "$out"
    fi
    # Installed into the plugin cache at the version the npm SDK asks for, so
    # the engine picks it without falling back to (and warning about) PATH.
    local sdk_version plugin_dir
    sdk_version=$(node -p 'require(process.argv[1]).version' "$EDGE_FLEET_ROOT/node_modules/@pulumi/docker/package.json")
    plugin_dir="$PULUMI_HOME/plugins/resource-docker-v$sdk_version"
    if ! cmp -s "$out/pulumi-resource-docker" "$plugin_dir/pulumi-resource-docker"; then
        pulumi plugin install resource docker "$sdk_version" --file "$out/pulumi-resource-docker" --reinstall >/dev/null
    fi
    pulumi version >/dev/null
    quiet_pulumi_logs
}

# Pulumi 3.260 writes a compressed, encrypted debug log of every command under
# $PULUMI_HOME/logs: at fleet scale that was half of the engine's CPU time (and
# half a gigabyte a day of tests). With a file where the directory would be,
# the CLI notes "automatic logging unavailable" at its info level and goes on.
# Only the project's own PULUMI_HOME; one a user set is left as it is.
quiet_pulumi_logs() {
    [ "$PULUMI_HOME" = "$EDGE_FLEET_CACHE/pulumi-home" ] || return 0
    [ -f "$PULUMI_HOME/logs" ] && return 0
    rm -rf "$PULUMI_HOME/logs"
    : >"$PULUMI_HOME/logs"
}

case "${1:-}" in
    "") main ;;
    compose) build_compose ;;
    actionlint) build_actionlint ;;
    docker-engine) build_docker_engine ;;
    *) die "usage: toolchain.sh [compose|actionlint|docker-engine]" ;;
esac
