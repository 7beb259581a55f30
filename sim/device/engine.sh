# shellcheck shell=bash
# Which Docker Engine a device runs; sourced by sim/device.sh, which sets the
# D_* variables (set_device) first.
#
#   debian   Debian 12's docker.io (Engine 20.10, API 1.41), with Debian's
#            containerd and runc: the default, what most boxes in the field run
#   current  an Engine built from Go modules by `scripts/toolchain.sh
#            docker-engine` (moby v2, API 1.56, its own containerd and runc):
#            runs healthchecks every start_interval during the start period
#            (API 1.44+), and by default refuses clients older than API 1.40
#
#   engine_set KIND     keep KIND with the device's state
#   engine_kind         the device's engine (debian when never set)
#   engine_install      build the current engine unless the cache holds it
#   engine_dockerd      the dockerd to start
#   engine_path         directories to put before dockerd's PATH (its
#                       containerd, shim, runc and docker-proxy), or nothing
#   engine_data_root    the data root: one per engine, since an old daemon
#                       cannot read what a newer one wrote
#   engine_config       a line for the daemon's configuration hash (empty for debian)

ENGINES="debian current"

engine_set() {
    [[ " $ENGINES " == *" $1 "* ]] || die "--engine must be one of: $ENGINES (got '$1')"
    mkdir -p "$D_STATE"
    if [[ "$1" == debian ]]; then rm -f "$D_STATE/engine"; else echo "$1" >"$D_STATE/engine"; fi
}

engine_kind() {
    cat "$D_STATE/engine" 2>/dev/null || echo debian
}

# The build is cached under EDGE_FLEET_CACHE by its inputs; it takes minutes
# the first time (about 20 on 2 cores from a cold Go build cache).
engine_install() {
    ENGINE_DIR=""
    [[ "$(engine_kind)" == current ]] || return 0
    ENGINE_DIR="$(bash "$SIM_DIR/../scripts/toolchain.sh" docker-engine)"
    [[ -x "$ENGINE_DIR/dockerd" ]] || die "$D_NAME: no dockerd in '$ENGINE_DIR'"
}

engine_dockerd() {
    if [[ -n "${ENGINE_DIR:-}" ]]; then echo "$ENGINE_DIR/dockerd"; else echo dockerd; fi
}

engine_path() {
    if [[ -n "${ENGINE_DIR:-}" ]]; then echo "$ENGINE_DIR:"; fi
}

engine_data_root() {
    if [[ "$(engine_kind)" == current ]]; then echo "$D_STATE/docker-current"; else echo "$D_STATE/docker"; fi
}

engine_config() {
    if [[ -n "${ENGINE_DIR:-}" ]]; then echo "engine current $ENGINE_DIR"; fi
}
