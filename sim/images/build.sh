#!/usr/bin/env bash
# Builds the offline stand-in images of every service and pushes them to the
# simulated registry under GHCR-like names: <registry>/vv-video-ai/<service>:<tag>.
# No Docker daemon is involved: a small Go program of ours (builder/) assembles
# the layers and pushes them.
#
#   build.sh            build and push what changed; prints a JSON summary
#   build.sh --force    rebuild even when the inputs are unchanged
#   build.sh tag SERVICE FROM TO
#                       point tag TO of a service's repository at tag FROM's image
#                       (publishes a "new release" under a tag that devices already run)
#
# Releases, for every service:
#   1.0.0, 1.1.0        healthy; differ in STANDIN_VERSION, so their digests differ
#   1.1.0-unhealthy     stand-in services only: unhealthy from the start
# Contents:
#   stand-ins (agent_dvr scene_scanner scene_summarizer logline_writer playlist_manager
#     tv_api orchestrator prometheus grafana): /standin (standin/), busybox (sh, find,
#     wget, ...) and Debian's curl with its shared libraries, for the seed's healthchecks
#   watchtower: containrrr/watchtower built from its Go module (watchtower/go.mod)
#   self-monitor (also pushed as self_monitor, the service's name in the stack): images/self-monitor/
# Cached: when the inputs hash to the last pushed build and the registry still
# has every tag, nothing is rebuilt (well under a second).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

IMAGES_SRC="$SIM_DIR/images"
SELF_MONITOR_SRC="$REPO_ROOT/images/self-monitor"
WORK="$CACHE_ROOT/images"
BIN="$WORK/bin"
ROOTFS="$WORK/rootfs"
SPEC="$WORK/spec.json"
STAMP="$WORK/stamp"

STANDIN_SERVICES=(agent_dvr scene_scanner scene_summarizer logline_writer playlist_manager tv_api orchestrator prometheus grafana)
RELEASES=(1.0.0 1.1.0)
UNHEALTHY_SUFFIX="-unhealthy"
# Fixed image creation time: rebuilding the same inputs must give the same digests.
CREATED="2025-01-01T00:00:00Z"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

go_build() { # go_build MODULE_DIR OUTPUT [PACKAGE [EXTRA_LDFLAGS]]
    (cd "$1" && go build -trimpath -ldflags "-s -w -buildid= ${4:-}" -o "$2" "${3:-.}")
}

build_binaries() {
    mkdir -p "$BIN"
    log "building Go binaries"
    go_build "$IMAGES_SRC/builder" "$BIN/builder"
    go_build "$IMAGES_SRC/standin" "$BIN/standin"
    go_build "$SELF_MONITOR_SRC" "$BIN/self-monitor"
    local wt_version
    wt_version="$(cd "$IMAGES_SRC/watchtower" && go list -m -f '{{.Version}}' github.com/containrrr/watchtower)"
    go_build "$IMAGES_SRC/watchtower" "$BIN/watchtower" github.com/containrrr/watchtower \
        "-X github.com/containrrr/watchtower/internal/meta.Version=$wt_version"
}

# Shared bottom layer: busybox applets, curl with its libraries, a minimal /etc.
make_base_rootfs() {
    local root="$ROOTFS/base" applet lib
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,app,tmp,lib64,var/tmp}
    chmod 1777 "$root/tmp" "$root/var/tmp"
    cp /bin/busybox "$root/bin/busybox"
    while read -r applet; do
        [[ -e "$root/$applet" || -L "$root/$applet" ]] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -s /bin/busybox "$root/$applet"
    done < <(/bin/busybox --list-full)
    # The seed's tv_api check is `curl -f ...`: the real curl, not a look-alike.
    cp /usr/bin/curl "$root/usr/bin/curl"
    for lib in $(curl_libs); do
        mkdir -p "$root/$(dirname "$lib")"
        cp -L "$lib" "$root/$lib"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
    if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then
        mkdir -p "$root/etc/ssl/certs"
        cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    fi
}

# Shared libraries curl loads, including the dynamic loader, as absolute paths.
curl_libs() {
    ldd /usr/bin/curl | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u
}

make_app_rootfs() { # make_app_rootfs NAME BINARY: a layer holding /NAME
    rm -rf "${ROOTFS:?}/$1"
    mkdir -p "$ROOTFS/$1"
    cp "$2" "$ROOTFS/$1/$1"
    chmod 755 "$ROOTFS/$1/$1"
}

write_spec() {
    local reg
    reg="$("$SIM_DIR/registry.sh" env)"
    jq -n \
        --argjson reg "$reg" \
        --arg created "$CREATED" \
        --arg rootfs "$ROOTFS" \
        --argjson services "$(printf '%s\n' "${STANDIN_SERVICES[@]}" | jq -R . | jq -s .)" \
        --argjson releases "$(printf '%s\n' "${RELEASES[@]}" | jq -R . | jq -s .)" \
        --arg unhealthy "$UNHEALTHY_SUFFIX" '
        def path: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
        def labels($svc; $ver): {
            "org.opencontainers.image.title": $svc,
            "org.opencontainers.image.version": $ver,
            "org.opencontainers.image.description": ("edge-fleet simulation stand-in for " + $svc)
        };
        def ports($svc): {"tv_api": {"8000/tcp": {}}, "prometheus": {"9090/tcp": {}}, "grafana": {"3000/tcp": {}}}[$svc] // {};
        def standin($svc; $ver; $bad): {
            repository: ($reg.namespace + "/" + $svc),
            tags: [$ver],
            layers: ["base", "standin"],
            config: {
                Entrypoint: ["/standin"],
                Env: (path + ["STANDIN_SERVICE=" + $svc, "STANDIN_VERSION=" + $ver] + (if $bad then ["STANDIN_UNHEALTHY=1"] else [] end)),
                WorkingDir: "/app",
                Labels: labels($svc; $ver),
                ExposedPorts: ports($svc),
                StopSignal: "SIGTERM"
            }
        };
        def tool($repo; $bin; $svc; $ver; $extra): {
            repository: ($reg.namespace + "/" + $repo),
            tags: [$ver],
            layers: ["base", $bin],
            config: {
                Entrypoint: ["/" + $bin],
                Env: (path + ["EDGE_FLEET_IMAGE_VERSION=" + $ver]),
                Labels: (labels($svc; $ver) + $extra)
            }
        };
        {
            registry: $reg.server,
            insecure: $reg.insecure,
            username: $reg.username,
            passwordFile: $reg.passwordFile,
            created: $created,
            layers: {
                base: ($rootfs + "/base"),
                standin: ($rootfs + "/standin"),
                "self-monitor": ($rootfs + "/self-monitor"),
                watchtower: ($rootfs + "/watchtower")
            },
            images: (
                [ $services[] as $svc | $releases[] as $ver | standin($svc; $ver; false) ]
                + [ $services[] as $svc | standin($svc; $releases[-1] + $unhealthy; true) ]
                + [ $releases[] as $ver | tool("watchtower"; "watchtower"; "watchtower"; $ver;
                        {"com.centurylinklabs.watchtower": "true"}) ]
                + [ ("self-monitor", "self_monitor") as $repo | $releases[] as $ver
                        | tool($repo; "self-monitor"; "self_monitor"; $ver; {}) ]
            )
        }' >"$SPEC.new"
    mv "$SPEC.new" "$SPEC"
}

# Everything that goes into the images; a change in any of it means a rebuild.
inputs_hash() {
    {
        go version
        (cd "$REPO_ROOT" && find sim/images images/self-monitor sim/lib.sh sim/registry.sh -type f \
            ! -name '*_test.go' -print0 | sort -z | xargs -0 sha256sum)
        # shellcheck disable=SC2046 # one path per word
        sha256sum /bin/busybox /usr/bin/curl $(curl_libs)
        printf '%s\n' "$CREATED" "${STANDIN_SERVICES[@]}" "${RELEASES[@]}" "$UNHEALTHY_SUFFIX"
        "$SIM_DIR/registry.sh" env
    } | sha256sum | cut -d' ' -f1
}

summary() {
    jq -n --slurpfile spec "$SPEC" '
        $spec[0] as $s
        | {
            registry: $s.registry,
            namespace: ($s.images[0].repository | split("/")[0]),
            images: ([ $s.images[] | {key: (.repository | split("/")[1]), value: ($s.registry + "/" + .repository)} ] | from_entries),
            tags: ([ $s.images[] | {key: (.repository | split("/")[1]), value: .tags} ]
                   | group_by(.key) | map({key: .[0].key, value: ([.[].value[]] | unique)}) | from_entries)
          }'
}

cmd_build() {
    local force="${1:-}" hash t0
    require_root
    ensure_packages busybox:busybox-static curl:curl jq:jq ldd:libc-bin
    # Debian 12's golang-go (1.19) is too old for go-containerregistry; the Go
    # toolchain comes with the machine.
    command -v go >/dev/null || die "Go >= 1.25 is required on PATH"
    # Copied into images that have no libc of their own: it must be the static build.
    if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
        die "/bin/busybox must be the static one (apt-get install busybox-static)"
    fi
    "$SIM_DIR/registry.sh" up
    mkdir -p "$WORK"
    hash="$(inputs_hash)"
    if [[ "$force" != --force && -s "$SPEC" && -x "$BIN/builder" && "$(cat "$STAMP" 2>/dev/null)" == "$hash" ]] &&
        "$BIN/builder" check -spec "$SPEC" 2>/dev/null; then
        log "images up to date"
        summary
        return 0
    fi
    t0=$SECONDS
    build_binaries
    make_base_rootfs
    make_app_rootfs standin "$BIN/standin"
    make_app_rootfs self-monitor "$BIN/self-monitor"
    make_app_rootfs watchtower "$BIN/watchtower"
    write_spec
    log "pushing to $SIM_REGISTRY_SERVER"
    "$BIN/builder" push -spec "$SPEC" >"$WORK/push.log"
    log "$(jq -s '[.[] | select(.pushed)] | length' "$WORK/push.log") of $(wc -l <"$WORK/push.log") tags pushed in $((SECONDS - t0)) s"
    echo "$hash" >"$STAMP"
    summary
}

cmd_tag() {
    [[ $# -eq 3 ]] || die "usage: build.sh tag SERVICE FROM TO"
    [[ -x "$BIN/builder" && -s "$SPEC" ]] || cmd_build >/dev/null
    "$BIN/builder" tag -spec "$SPEC" -repo "$SIM_REGISTRY_NAMESPACE/$1" -from "$2" -to "$3"
}

case "${1:-}" in
    ""|--force) cmd_build "${1:-}" ;;
    tag) shift; cmd_tag "$@" ;;
    *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
