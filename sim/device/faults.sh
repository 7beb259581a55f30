# shellcheck shell=bash
# Breaking a device on purpose, for tests of what a deploy or a rollout does
# then; sourced by sim/device.sh, which sets the D_* variables (set_device) first.
#
#   cmd_fault NAME KIND   partition | heal | stop-sshd | start-sshd | stop-dockerd | start-dockerd
#   fault_heal            undo a partition (`up` runs it too)
#   partitioned           the device is partitioned now (for `status`)

FAULT_CHAIN=EDGE-SIM-FAULT

in_netns() { ip netns exec "$D_NAME" "$@"; }

# A partition is a link that went dead: every packet that arrives on the
# device's eth0 and every packet it sends out of it is dropped. The rules sit
# in the raw table, which sees packets before connection tracking and before
# Docker's NAT, so they cut established connections (an open ssh session
# stalls, and resumes after `heal` if neither end has timed out) as well as
# new ones, and traffic to published container ports (forwarded, never seen
# by the filter table's INPUT) as well as traffic to sshd. DROP, not REJECT:
# a dead link on the far side of a WAN looks like silence.
fault_partition() {
    in_netns iptables -w -t raw -N "$FAULT_CHAIN" 2>/dev/null || true
    in_netns iptables -w -t raw -F "$FAULT_CHAIN"
    in_netns iptables -w -t raw -A "$FAULT_CHAIN" -j DROP
    in_netns iptables -w -t raw -C PREROUTING -i eth0 -j "$FAULT_CHAIN" 2>/dev/null ||
        in_netns iptables -w -t raw -I PREROUTING 1 -i eth0 -j "$FAULT_CHAIN"
    in_netns iptables -w -t raw -C OUTPUT -o eth0 -j "$FAULT_CHAIN" 2>/dev/null ||
        in_netns iptables -w -t raw -I OUTPUT 1 -o eth0 -j "$FAULT_CHAIN"
    log "$D_NAME: partitioned (packets to and from $D_ADDR are dropped)"
}

partitioned() {
    [[ -e "/run/netns/$D_NAME" ]] || return 1
    in_netns iptables -w -t raw -C PREROUTING -i eth0 -j "$FAULT_CHAIN" 2>/dev/null ||
        in_netns iptables -w -C INPUT -i eth0 -j "$FAULT_CHAIN" 2>/dev/null
}

fault_heal() {
    [[ -e "/run/netns/$D_NAME" ]] || return 0
    partitioned || return 0
    in_netns iptables -w -t raw -D PREROUTING -i eth0 -j "$FAULT_CHAIN" 2>/dev/null || true
    in_netns iptables -w -t raw -D OUTPUT -o eth0 -j "$FAULT_CHAIN" 2>/dev/null || true
    in_netns iptables -w -t raw -F "$FAULT_CHAIN" 2>/dev/null || true
    # The form an earlier version of this file used (filter table, INPUT
    # only), so that `heal` and `up` also undo a partition made with it.
    in_netns iptables -w -D INPUT -i eth0 -j "$FAULT_CHAIN" 2>/dev/null || true
    in_netns iptables -w -F "$FAULT_CHAIN" 2>/dev/null || true
    log "$D_NAME: partition healed"
}

# start-*: bring back what stop-* stopped, without the rest of `up` (no
# network repair, no heal, no selftest), so a test can restore one part of a
# broken device and leave the others broken.
fault_start() { # fault_start sshd|dockerd
    holder_ok || die "$D_NAME: the device is down (no namespace holder); run: device.sh up $D_NAME"
    case "$1" in
        sshd) ensure_sshd ;;
        dockerd) ensure_dockerd ;;
    esac
}

fault_apply() { # fault_apply KIND
    case "$1" in
        partition) fault_partition ;;
        heal) fault_heal ;;
        stop-sshd) stop_pidfile "$D_SSHD_PID" 5; log "$D_NAME: sshd stopped" ;;
        stop-dockerd) stop_dockerd; log "$D_NAME: dockerd stopped" ;;
        start-sshd) fault_start sshd ;;
        start-dockerd) fault_start dockerd ;;
    esac
}

cmd_fault() {
    require_root
    set_device "$1"
    [[ -n "$D_INDEX" ]] || die "$1: unknown device"
    case "${2:-}" in
        partition | heal | stop-sshd | start-sshd | stop-dockerd | start-dockerd) ;;
        *) die "fault KIND must be one of: partition heal stop-sshd start-sshd stop-dockerd start-dockerd" ;;
    esac
    if [[ "$2" == partition ]] && [[ ! -e "/run/netns/$D_NAME" ]]; then
        die "$D_NAME: the device is down (no network namespace); run: device.sh up $D_NAME"
    fi
    # Under the device's lock: a fault never interleaves with an `up` or a
    # `down` of the same device.
    with_lock "device-$D_NAME" fault_apply "$2"
}
