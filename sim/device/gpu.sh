# shellcheck shell=bash
# A device's GPU stand-ins, by hardware class; sourced by sim/device.sh, which
# sets the D_* variables (set_device) first. There is no GPU here: the
# stand-ins only record what the daemon and runc handed them, so a test can
# check that a GPU container really took the class's path.
#
#   jetson  runtime `nvidia` in daemon.json is gpu/nvidia-container-runtime.sh
#           (records each container it creates, then runs runc)
#   x86     gpu/nvidia-container-runtime-hook.sh is on dockerd's PATH, so
#           dockerd registers its `nvidia` GPU device driver (`--gpus`); the
#           hook records each call. Runtime `nvidia` stays plain runc.
#   none    neither (the default): runtime `nvidia` is plain runc, no driver
#
#   gpu_class_set CLASS   keep CLASS with the device's state
#   gpu_class             the device's class (none when never set)
#   gpu_install           put the stand-ins of the class in place
#   gpu_runtime_path      what runtime `nvidia` runs, for daemon.json
#   gpu_dockerd_path      dockerd's PATH
#   gpu_config            a line for the daemon's configuration hash (empty for none)
#   gpu_selftest          a container of the class goes through its stand-in

GPU_CLASSES="jetson x86 none"
GPU_BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

gpu_dir() { echo "$D_STATE/gpu"; }

gpu_class_set() {
    [[ " $GPU_CLASSES " == *" $1 "* ]] || die "--gpu must be one of: $GPU_CLASSES (got '$1')"
    mkdir -p "$D_STATE"
    if [[ "$1" == none ]]; then rm -f "$D_STATE/gpu-class"; else echo "$1" >"$D_STATE/gpu-class"; fi
}

gpu_class() {
    cat "$D_STATE/gpu-class" 2>/dev/null || echo none
}

# Copies, not links: the device's state outlives the checkout it was made from.
# Replaced by rename, and only when changed: runc may be running it right now.
gpu_install() {
    local bin want="" f
    bin="$(gpu_dir)/bin"
    case "$(gpu_class)" in
        jetson) want=nvidia-container-runtime ;;
        x86) want=nvidia-container-runtime-hook ;;
    esac
    for f in "$bin"/*; do
        [[ -e "$f" && "${f##*/}" != "$want" ]] && rm -f "$f"
    done
    [[ -n "$want" ]] || return 0
    f="$SIM_DIR/device/gpu/$want.sh"
    if ! cmp -s "$f" "$bin/$want"; then
        install -D -m 755 "$f" "$bin/$want.new"
        mv "$bin/$want.new" "$bin/$want"
    fi
}

gpu_runtime_path() {
    if [[ "$(gpu_class)" == jetson ]]; then echo "$(gpu_dir)/bin/nvidia-container-runtime"; else echo runc; fi
}

# Only the device's dockerd sees the hook: dockerd looks for it once, at start.
gpu_dockerd_path() {
    if [[ "$(gpu_class)" == x86 ]]; then echo "$(gpu_dir)/bin:$GPU_BASE_PATH"; else echo "$GPU_BASE_PATH"; fi
}

# Empty for none, so devices without stand-ins keep their configuration hash.
gpu_config() {
    local class
    class="$(gpu_class)"
    [[ "$class" == none ]] || echo "gpu $class PATH=$(gpu_dockerd_path)"
}

# A container with the class's GPU option must leave its id in the record.
gpu_selftest() { # gpu_selftest IMAGE
    local d=(docker -H "unix://$D_SOCKET") class opt record id
    class="$(gpu_class)"
    case "$class" in
        jetson) opt=(--runtime nvidia) record="$(gpu_dir)/runtime.jsonl" ;;
        x86) opt=(--gpus all) record="$(gpu_dir)/hook.jsonl" ;;
        *) return 0 ;;
    esac
    id="$("${d[@]}" create "${opt[@]}" "$1" sh -c 'exit 0')"
    "${d[@]}" start -a "$id" >/dev/null || die "$D_NAME: a container with ${opt[*]} did not run"
    "${d[@]}" rm "$id" >/dev/null
    [[ -n "$(jq -c --arg id "$id" 'select(.id == $id)' "$record" 2>/dev/null)" ]] ||
        die "$D_NAME: ${opt[*]} did not go through the $class stand-in (no record of $id in $record)"
}
