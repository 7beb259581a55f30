#!/usr/bin/env bash
# Stand-in for the NVIDIA container runtime of a Jetson-class device: the
# device's daemon.json registers it as runtime `nvidia`. It records each call
# that makes a container run, so a test can prove a container went through
# this runtime (not only that its HostConfig names it), then hands every call
# to runc unchanged: there is no GPU to set up here.
# Installed as <device state>/gpu/bin/nvidia-container-runtime; the record is
# <device state>/gpu/runtime.jsonl, one JSON object per line.
set -euo pipefail

record="$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")/runtime.jsonl"

# runc's global options come before the command; these take a value.
command="" bundle="" i=1
args=("$@")
while ((i <= $#)); do
    a="${!i}"
    case "$a" in
        --root | --log | --log-format | --criu | --rootless) i=$((i + 2)); continue ;;
        -*) i=$((i + 1)); continue ;;
        *) command="$a"; break ;;
    esac
done
prev=""
for a in "$@"; do
    if [[ "$prev" == --bundle || "$prev" == -b ]]; then bundle="$a"; fi
    prev="$a"
done

# Only what starts a container: state queries, kills and healthcheck execs
# would grow the record by the second.
case "$command" in
    create | run | start)
        # The container id is runc's last argument for these commands. The
        # arguments go to jq NUL-separated: its --args would parse runc's options;
        # jq 1.6 drops the empty string after the last NUL, later versions keep it.
        printf '%s\0' "$@" | jq -Rsc --arg time "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" --arg command "$command" \
            --arg id "${args[-1]}" --arg bundle "$bundle" \
            '{time: $time, command: $command, id: $id, bundle: $bundle, args: (split("\u0000") | if .[-1] == "" then .[:-1] else . end)}' \
            >>"$record" || true
        ;;
esac
exec runc "$@"
