# shellcheck shell=bash
# Breaking a device on purpose, for tests of what a deploy does then; sourced
# by sim/device.sh, which sets the D_* variables (set_device) first.
#
#   cmd_fault NAME KIND   partition | heal | stop-sshd | stop-dockerd
#   fault_heal            undo a partition (`up` runs it too)

fault_heal() {
    [[ -e "/run/netns/$D_NAME" ]] || return 0
    if ip netns exec "$D_NAME" iptables -w -C INPUT -i eth0 -j EDGE-SIM-FAULT 2>/dev/null; then
        ip netns exec "$D_NAME" iptables -w -D INPUT -i eth0 -j EDGE-SIM-FAULT
        log "$D_NAME: partition healed"
    fi
    ip netns exec "$D_NAME" iptables -w -F EDGE-SIM-FAULT 2>/dev/null || true
}

cmd_fault() {
    require_root
    set_device "$1"
    [[ -n "$D_INDEX" ]] || die "$1: unknown device"
    case "${2:-}" in
        partition)
            # DROP, not REJECT: a dead link on the far side of a WAN looks like silence.
            ip netns exec "$D_NAME" iptables -w -N EDGE-SIM-FAULT 2>/dev/null || true
            ip netns exec "$D_NAME" iptables -w -F EDGE-SIM-FAULT
            ip netns exec "$D_NAME" iptables -w -A EDGE-SIM-FAULT -j DROP
            ip netns exec "$D_NAME" iptables -w -C INPUT -i eth0 -j EDGE-SIM-FAULT 2>/dev/null ||
                ip netns exec "$D_NAME" iptables -w -I INPUT 1 -i eth0 -j EDGE-SIM-FAULT
            log "$D_NAME: partitioned (packets to $D_ADDR are dropped)" ;;
        heal) fault_heal ;;
        stop-sshd) stop_pidfile "$D_SSHD_PID" 5; log "$D_NAME: sshd stopped" ;;
        stop-dockerd) stop_dockerd; log "$D_NAME: dockerd stopped" ;;
        *) die "fault KIND must be one of: partition heal stop-sshd stop-dockerd" ;;
    esac
}
