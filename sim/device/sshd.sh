# shellcheck shell=bash
# How a device is reached: the deploy user, the keys and the device's sshd;
# sourced by sim/device.sh, which sets the D_* variables (set_device) first.
#
#   ensure_user      user `edge` in group docker, able to log in with a key only
#   ensure_keys      host key and deploy key (made once), known_hosts, ssh config,
#                    and the bin/ssh wrapper that the docker CLI picks up from PATH
#   ensure_sshd      sshd on ADDR:22 inside the device, restarted when its config changes
#   sshd_listening   something accepts connections on ADDR:22
#   ssh_check        the whole path a deploy takes works

ensure_user() {
    getent group docker >/dev/null || groupadd --system docker
    if ! id "$SIM_SSH_USER" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/bash --groups docker "$SIM_SSH_USER"
    fi
    id -nG "$SIM_SSH_USER" | tr ' ' '\n' | grep -qx docker || usermod -aG docker "$SIM_SSH_USER"
    # '*' instead of the locked '!': with UsePAM no, sshd refuses even key logins
    # to accounts whose password field starts with '!'.
    if [[ "$(getent shadow "$SIM_SSH_USER" | cut -d: -f2)" != "*" ]]; then
        usermod -p '*' "$SIM_SSH_USER"
    fi
}

ensure_keys() {
    mkdir -p "$D_SSH"
    chmod 700 "$D_STATE" "$D_SSH"
    [[ -s "$D_HOSTKEY" ]] || ssh-keygen -q -t ed25519 -N '' -C "$D_NAME host key" -f "$D_HOSTKEY"
    [[ -s "$D_KEY" ]] || ssh-keygen -q -t ed25519 -N '' -C "edge-fleet deployer for $D_NAME" -f "$D_KEY"
    local hostpub
    hostpub="$(cut -d' ' -f1,2 "$D_HOSTKEY.pub")"
    echo "$D_ADDR $hostpub" >"$D_KNOWN_HOSTS"
    # For tools that take an ssh config (ssh -F, the wrapper in bin/ssh).
    cat >"$D_SSH_CONFIG" <<EOF
Host $D_NAME $D_ADDR
    HostName $D_ADDR
    Port 22
    User $SIM_SSH_USER
    IdentityFile $D_KEY
    IdentitiesOnly yes
    UserKnownHostsFile $D_KNOWN_HOSTS
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 10
EOF
    # The docker CLI has no flag for ssh options; put this directory first on PATH
    # to make `docker -H ssh://edge@ADDR` use the pinned key and host key.
    mkdir -p "$D_STATE/bin"
    cat >"$D_STATE/bin/ssh" <<EOF
#!/bin/sh
exec /usr/bin/ssh -F '$D_SSH_CONFIG' "\$@"
EOF
    chmod 755 "$D_STATE/bin/ssh"
}

write_sshd_config() {
    cat >"$D_SSHD_CONFIG.new" <<EOF
# Written by sim/device.sh; edits are overwritten.
ListenAddress $D_ADDR:22
HostKey $D_HOSTKEY
PidFile $D_SSHD_PID
AuthorizedKeysFile /run/edge/authorized_keys
AllowUsers $SIM_SSH_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
PrintMotd no
X11Forwarding no
# Like on a real device: the CLI's default socket is the device's daemon.
SetEnv DOCKER_HOST=unix:///var/run/docker.sock
# sshd's own limits (MaxStartups 10:30:100, MaxSessions 10), as on a stock
# device: a deploy must live with them.
LogLevel VERBOSE
EOF
    mv "$D_SSHD_CONFIG.new" "$D_SSHD_CONFIG"
    # The key file is read by sshd as the user; root-owned and world-readable is what StrictModes accepts.
    install -m 644 -o root -g root "$D_KEY.pub" "$D_DEVRUN/edge/authorized_keys"
}

sshd_listening() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$D_ADDR/22" 2>/dev/null
}

ensure_sshd() {
    write_sshd_config
    local want
    want="$(cat "$D_SSHD_CONFIG" "$D_HOSTKEY.pub" | sha256sum | cut -d' ' -f1)"
    if pid_alive "$D_SSHD_PID" && [[ "$(cat "$D_STATE/sshd.config-hash" 2>/dev/null)" == "$want" ]] && sshd_listening; then
        return 0
    fi
    stop_pidfile "$D_SSHD_PID" 5
    in_device /usr/sbin/sshd -t -f "$D_SSHD_CONFIG" || die "$D_NAME: invalid sshd config $D_SSHD_CONFIG"
    log "$D_NAME: starting sshd on $D_ADDR:22"
    echo "$want" >"$D_STATE/sshd.config-hash"
    # sshd forks into the background itself and writes its pid file.
    in_device env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /usr/sbin/sshd -f "$D_SSHD_CONFIG" -E "$D_STATE/sshd.log" 9>&-
    local i
    for ((i = 0; i < 50; i++)); do
        sshd_listening && return 0
        sleep 0.1
    done
    die "$D_NAME: sshd is not listening on $D_ADDR:22; see $D_STATE/sshd.log"
}

# The whole path a deploy takes: ssh with the pinned host key, then the docker
# CLI on the device dialing its daemon.
ssh_check() {
    local out
    out="$(ssh -F "$D_SSH_CONFIG" "$D_ADDR" docker version --format '{{.Server.Version}}' 2>&1)" ||
        die "$D_NAME: ssh check failed: $out"
}
