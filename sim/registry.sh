#!/usr/bin/env bash
# A local container registry standing in for GHCR, shared by every simulated
# device: Debian's docker-registry (CNCF distribution) with htpasswd (bcrypt) auth.
#
#   registry.sh up     start it (idempotent; seconds when already running)
#   registry.sh down   stop it (images and credentials are kept)
#   registry.sh env    print {"server","username","passwordFile","authFile","namespace","insecure"}
#   registry.sh status exit 0 when it answers, 1 otherwise
#
# Plain HTTP on the fleet bridge (10.77.0.1:5000), listed in every device's
# insecure-registries. Why not TLS with a CA of our own: the bridge never leaves
# this machine, and a CA would have to be trusted in three places that the stack
# does not manage the same way (the devices' dockerd via /etc/docker/certs.d,
# which is shared by all devices and the host; the deploy host; and inside the
# watchtower container). Basic auth is still enforced, so a missing or wrong
# credential fails exactly as it does against GHCR.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

REG_DIR="$SIM_CACHE/registry"
REG_PASSWORD_FILE="$REG_DIR/password"
REG_HTPASSWD="$REG_DIR/htpasswd"
# Docker-style client config with the credentials: for skopeo --authfile, or to
# mount as watchtower's /config.json.
REG_AUTHFILE="$REG_DIR/auth.json"
REG_CONFIG="$REG_DIR/config.yml"
REG_PID="$REG_DIR/registry.pid"
REG_LOG="$REG_DIR/registry.log"

# Credentials are made once and kept: devices, stacks and watchtower configs
# written by earlier runs keep working. The password goes only into files
# readable by root, never onto a command line, stdout or a log.
ensure_credentials() {
    mkdir -p "$REG_DIR"
    chmod 700 "$REG_DIR"
    if [[ ! -s "$REG_PASSWORD_FILE" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$REG_PASSWORD_FILE.tmp")
        mv "$REG_PASSWORD_FILE.tmp" "$REG_PASSWORD_FILE"
        rm -f "$REG_HTPASSWD"
    fi
    if [[ ! -s "$REG_HTPASSWD" ]]; then
        ensure_packages htpasswd:apache2-utils
        # -i reads the password from stdin; -B is bcrypt, the only hash distribution accepts.
        (umask 077 && htpasswd -iBc "$REG_HTPASSWD" "$SIM_REGISTRY_USER" <"$REG_PASSWORD_FILE" 2>/dev/null)
        rm -f "$REG_AUTHFILE"
    fi
    if [[ ! -s "$REG_AUTHFILE" ]]; then
        local auth
        # printf is a shell builtin: the password never appears in a process's arguments.
        auth="$(printf '%s:%s' "$SIM_REGISTRY_USER" "$(cat "$REG_PASSWORD_FILE")" | base64 -w0)"
        (umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$SIM_REGISTRY_SERVER" "$auth" >"$REG_AUTHFILE")
    fi
}

write_config() {
    local secret_file="$REG_DIR/http-secret"
    [[ -s "$secret_file" ]] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$secret_file")
    mkdir -p "$REG_DIR/data"
    (umask 077 && cat >"$REG_CONFIG.tmp" <<EOF
# Written by sim/registry.sh; edits are overwritten.
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $SIM_REGISTRY_SERVER
  secret: $(cat "$secret_file")
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: edge-fleet-sim
    path: $REG_HTPASSWD
EOF
    )
    mv "$REG_CONFIG.tmp" "$REG_CONFIG"
}

# 401 from /v2/ means: listening, and auth is on.
probe() {
    local code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$SIM_REGISTRY_SERVER/v2/" 2>/dev/null || true)"
    [[ "$code" == 401 ]]
}

cmd_up() {
    require_root
    ensure_packages docker-registry:docker-registry curl:curl jq:jq ip:iproute2 flock:util-linux
    with_lock network ensure_bridge
    with_lock registry registry_start
}

registry_start() {
    ensure_credentials
    local before=""
    [[ -f "$REG_CONFIG" ]] && before="$(sha256sum "$REG_CONFIG")"
    write_config
    if pid_alive "$REG_PID" && [[ "$before" == "$(sha256sum "$REG_CONFIG")" ]] && probe; then
        return 0
    fi
    stop_pidfile "$REG_PID" 10
    log "starting registry on $SIM_REGISTRY_SERVER"
    # 9>&-: the daemon must not inherit (and so hold) the lock.
    setsid docker-registry serve "$REG_CONFIG" >>"$REG_LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$REG_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        probe && return 0
        pid_alive "$REG_PID" || break
        sleep 0.1
    done
    tail -n 20 "$REG_LOG" >&2 || true
    die "registry did not come up on $SIM_REGISTRY_SERVER"
}

cmd_down() {
    require_root
    stop_pidfile "$REG_PID" 10
}

cmd_env() {
    ensure_credentials
    jq -n \
        --arg server "$SIM_REGISTRY_SERVER" \
        --arg username "$SIM_REGISTRY_USER" \
        --arg passwordFile "$REG_PASSWORD_FILE" \
        --arg authFile "$REG_AUTHFILE" \
        --arg namespace "$SIM_REGISTRY_NAMESPACE" \
        '{server: $server, username: $username, passwordFile: $passwordFile, authFile: $authFile, namespace: $namespace, insecure: true}'
}

cmd_status() {
    if pid_alive "$REG_PID" && probe; then
        echo "registry up on $SIM_REGISTRY_SERVER (pid $(cat "$REG_PID"))"
    else
        echo "registry down"
        return 1
    fi
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status) cmd_status ;;
    *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
