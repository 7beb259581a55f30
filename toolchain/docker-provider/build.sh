#!/usr/bin/env bash
# Builds the Pulumi docker resource plugin from Go modules only:
#   1. compiles pulumi-tfgen-docker and runs it to derive the package schema
#      from the bridge mapping,
#   2. compiles pulumi-resource-docker with that schema embedded.
# Usage: build.sh OUTDIR   (writes OUTDIR/pulumi-resource-docker and
# OUTDIR/schema.json). A second run with unchanged inputs only hashes them.
set -euo pipefail

out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

export GOFLAGS=-mod=mod CGO_ENABLED=0
# no_compose: upstream's switch to leave out docker compose, which the bridged
# (SDKv2) provider never serves and which is a large share of the compile.
# grpcnotrace: drops gRPC's debug tracing pages, unused by a plugin.
tags=no_compose,grpcnotrace
# -s -w: no symbol table or DWARF; panics still print function names and lines.
ldflags="-s -w"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[docker-provider] %s\n' "$*" >&2; }

t_all=$(now)

# The key covers every input that can change the binary: the wrapper module's
# files (go.mod/go.sum pin every dependency version), this script's flags and
# the Go toolchain. Paths are part of it so that renames count too.
key=$(
    cd "$here"
    {
        find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name 'build.sh' \) \
            -not -path './build/*' | LC_ALL=C sort | while read -r f; do
            printf '%s\n' "$f"
            sha256sum <"$f"
        done
        printf 'tags=%s ldflags=%s\n' "$tags" "$ldflags"
        go version
    } | sha256sum | cut -c1-32
)

if [ -x "$out/pulumi-resource-docker" ] && [ "$(cat "$out/.inputs-key" 2>/dev/null)" = "$key" ]; then
    say "up to date ($out/pulumi-resource-docker, key $key); checked in $(since "$t_all")s"
    exit 0
fi

work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$here"

say "compiling the schema generator (first build takes several minutes)"
t=$(now)
go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$work/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker
say "schema generator compiled in $(since "$t")s"

t=$(now)
# The generator warns about every property without a description; only the
# error status matters here, the log is kept for when it fails.
if ! "$work/pulumi-tfgen-docker" -out "$work/schema.json" >"$work/tfgen.log" 2>&1; then
    cat "$work/tfgen.log" >&2
    exit 1
fi
say "schema generated in $(since "$t")s ($(wc -c <"$work/schema.json") bytes)"

# go:embed reads schema.json through the overlay, so the source tree is never
# written to and two builds can run from the same checkout.
printf '{"Replace":{"%s":"%s"}}\n' \
    "$here/cmd/pulumi-resource-docker/schema.json" "$work/schema.json" >"$work/overlay.json"

t=$(now)
go build -trimpath -tags "$tags" -ldflags "$ldflags" -overlay "$work/overlay.json" \
    -o "$work/pulumi-resource-docker" ./cmd/pulumi-resource-docker
say "plugin compiled in $(since "$t")s"

# Binary and key are replaced last, so an interrupted build is never taken
# for a finished one.
rm -f "$out/.inputs-key"
mv "$work/schema.json" "$out/schema.json"
mv "$work/pulumi-resource-docker" "$out/pulumi-resource-docker"
printf '%s\n' "$key" >"$out/.inputs-key"
say "built $out/pulumi-resource-docker ($(du -m "$out/pulumi-resource-docker" | cut -f1) MiB) in $(since "$t_all")s"
