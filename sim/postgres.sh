#!/usr/bin/env bash
# A PostgreSQL server standing in for a team's shared state database: Pulumi's
# postgres:// backend keeps the stacks' state and locks in it, and edge-fleet
# its rollout records beside them. Debian's PostgreSQL, one cluster for the
# machine, reachable on 127.0.0.1 only, password (SCRAM) authentication.
#
#   postgres.sh up      start it (idempotent; seconds when already running)
#   postgres.sh down    stop it (databases are kept)
#   postgres.sh env     print {"url","user","passwordFile","host","port","database"}
#   postgres.sh status  exit 0 when it accepts connections, 1 otherwise
#
# The url carries no password: clients take it from PGPASSWORD (read it from
# passwordFile), as the README tells teams to do, so it never sits in a URL
# that tools print.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

PG_PORT=5499
PG_HOST=127.0.0.1
PG_USER=edge_fleet
PG_DB=edge_fleet
# The server runs as the `postgres` user (it refuses root), which cannot reach
# a cache under root's home: its data lives under /var/lib, its socket in /run.
PG_DATA=/var/lib/edge-fleet-sim/postgres/data
PG_SOCKET_DIR="$SIM_RUN/postgres"
PG_LOG=/var/lib/edge-fleet-sim/postgres/server.log
# One server for the machine, so one password: beside the data, readable by root only.
PG_PASSWORD_FILE=/var/lib/edge-fleet-sim/postgres/password

pg_bin() { # the newest installed server's binaries
    local d
    d="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$d" ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
    printf '%s/%s' "$d" "$1"
}

as_postgres() { runuser -u postgres -- "$@"; }

probe() {
    as_postgres "$(pg_bin pg_isready)" -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" 2>/dev/null
}

ensure_password() {
    if [[ ! -s "$PG_PASSWORD_FILE" ]]; then
        (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$PG_PASSWORD_FILE.tmp")
        mv "$PG_PASSWORD_FILE.tmp" "$PG_PASSWORD_FILE"
    fi
}

pg_start() {
    mkdir -p "$(dirname "$PG_DATA")" "$PG_SOCKET_DIR"
    ensure_password
    chown postgres:postgres "$(dirname "$PG_DATA")" "$PG_SOCKET_DIR"
    chmod 700 "$(dirname "$PG_DATA")"
    if [[ ! -s "$PG_DATA/PG_VERSION" ]]; then
        log "creating the PostgreSQL cluster in $PG_DATA"
        rm -rf "$PG_DATA"
        as_postgres "$(pg_bin initdb)" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 >/dev/null
    fi
    if ! probe; then
        log "starting PostgreSQL on $PG_HOST:$PG_PORT"
        # 9>&-: the server must not inherit (and so hold) the lock, or the
        # next `up` would wait for it until the server stops.
        as_postgres "$(pg_bin pg_ctl)" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
            -o "-c listen_addresses=$PG_HOST -p $PG_PORT -k $PG_SOCKET_DIR" start >/dev/null 9>&- ||
            { tail -n 20 "$PG_LOG" >&2 || true; die "PostgreSQL did not start"; }
    fi
    # The role and its database; the password is set on every start from the
    # file, through psql's stdin (printf is a builtin: never in a process's arguments).
    {
        printf "SELECT 'CREATE ROLE %s LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s')\\gexec\n" "$PG_USER" "$PG_USER"
        printf "ALTER ROLE %s PASSWORD '%s';\n" "$PG_USER" "$(cat "$PG_PASSWORD_FILE")"
        printf "SELECT 'CREATE DATABASE %s OWNER %s' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '%s')\\gexec\n" "$PG_DB" "$PG_USER" "$PG_DB"
    } | as_postgres "$(pg_bin psql)" -q -X -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -d postgres >/dev/null
}

cmd_up() {
    require_root
    ensure_packages runuser:util-linux flock:util-linux jq:jq
    ensure_packages /usr/lib/postgresql:postgresql
    id postgres >/dev/null 2>&1 || die "the postgresql package did not create the postgres user"
    with_lock postgres pg_start
}

cmd_down() {
    require_root
    [[ -s "$PG_DATA/PG_VERSION" ]] || return 0
    probe || return 0
    as_postgres "$(pg_bin pg_ctl)" -D "$PG_DATA" -m fast -w stop >/dev/null
}

cmd_env() {
    jq -n --arg url "postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB?sslmode=disable" --arg user "$PG_USER" \
        --arg pw "$PG_PASSWORD_FILE" --arg host "$PG_HOST" --argjson port "$PG_PORT" --arg db "$PG_DB" \
        '{url: $url, user: $user, passwordFile: $pw, host: $host, port: $port, database: $db}'
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status) probe ;;
    *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
