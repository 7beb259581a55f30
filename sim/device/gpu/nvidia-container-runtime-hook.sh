#!/usr/bin/env bash
# Stand-in for the NVIDIA container toolkit's prestart hook on an x86-class
# device. dockerd registers its `nvidia` GPU device driver only when a program
# of this name is on its PATH; a container with a GPU device request (e.g.
# `--gpus all`) then gets it as an OCI prestart hook, called by runc with the
# arguments dockerd chose and the container's OCI state (id, pid, bundle) on
# stdin. The real hook reads the NVIDIA_* variables from the bundle's
# config.json to decide which GPUs to mount; this one records what it was
# given and succeeds: there is no GPU to mount here.
# Installed as <device state>/gpu/bin/nvidia-container-runtime-hook; the
# record is <device state>/gpu/hook.jsonl, one JSON object per line.
set -euo pipefail

record="$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")/hook.jsonl"
state="$(cat)"
bundle="$(jq -r '.bundle // ""' <<<"$state")"
# From the container's spec: its NVIDIA_* variables (the stack's and those
# dockerd adds for the device request) and the prestart hooks dockerd set.
spec='{}'
if [[ -n "$bundle" && -r "$bundle/config.json" ]]; then
    spec="$(jq -c '{env: [.process.env[]? | select(startswith("NVIDIA_"))], prestart: (.hooks.prestart // [])}' "$bundle/config.json")"
fi
own_env="$({ env | grep '^NVIDIA_' || true; } | jq -Rsc 'split("\n") | map(select(. != ""))')"
printf '%s\0' "$@" | jq -Rsc --arg time "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" --argjson state "$state" \
    --argjson spec "$spec" --argjson env "$own_env" \
    '{time: $time, args: (split("\u0000") | if .[-1] == "" then .[:-1] else . end), id: $state.id, bundle: $state.bundle, state: $state,
      specEnv: ($spec.env // []), prestartHooks: ($spec.prestart // []), env: $env}' \
    >>"$record"
