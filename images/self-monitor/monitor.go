package main

import (
	"sort"
	"strings"
	"time"
)

// Labels the stack puts on every container it manages.
const (
	StackLabel  = "edge-fleet.stack"
	OptOutLabel = "edge-fleet.self-monitor"
	OptOutValue = "off"
)

// Container is the part of the Engine API's container summary the monitor needs.
type Container struct {
	ID     string
	Name   string
	Labels map[string]string
	Status string // e.g. "Up 3 minutes (unhealthy)"
}

// Decision says what to do about one unhealthy container, and why.
type Decision struct {
	Container Container
	Restart   bool
	Reason    string
	// ResumeAt is when a container skipped for ReasonRestartLimit may be restarted again.
	ResumeAt time.Time
}

const (
	ReasonUnhealthy   = "unhealthy"
	ReasonOptedOut    = "opted-out"
	ReasonCooldown    = "cooldown"
	ReasonOtherStack  = "other-stack"
	ReasonSelf        = "self"
	ReasonNotUnhealth = "not-unhealthy"
	// ReasonRestartLimit: the container used up its restarts for the window (see Budget).
	ReasonRestartLimit = "restart-limit"
)

// Policy is the monitor's configuration as far as decisions go.
type Policy struct {
	Stack    string
	Cooldown time.Duration
	// SelfID is this process's own container ID or a prefix of it (the
	// container's default hostname); empty when not running in a container.
	SelfID string
}

// Decide turns the containers the daemon reported unhealthy into decisions.
// The daemon was already asked for this stack's unhealthy containers only; the
// checks are repeated here so a daemon that ignores a filter (or a test) cannot
// make the monitor restart something that is not ours.
// lastRestart maps container IDs to when the monitor last restarted them;
// budget caps the restarts per container (nil: no cap).
func Decide(now time.Time, p Policy, unhealthy []Container, lastRestart map[string]time.Time, budget *Budget) []Decision {
	out := make([]Decision, 0, len(unhealthy))
	for _, c := range unhealthy {
		d := Decision{Container: c}
		switch {
		case c.Labels[StackLabel] != p.Stack:
			d.Reason = ReasonOtherStack
		case strings.EqualFold(strings.TrimSpace(c.Labels[OptOutLabel]), OptOutValue):
			d.Reason = ReasonOptedOut
		case p.SelfID != "" && strings.HasPrefix(c.ID, p.SelfID):
			// Restarting ourselves would cut the request short; the daemon's
			// restart policy and the healthcheck cover the monitor itself.
			d.Reason = ReasonSelf
		case c.Status != "" && !strings.Contains(c.Status, "(unhealthy)"):
			d.Reason = ReasonNotUnhealth
		default:
			if last, ok := lastRestart[c.ID]; ok && now.Sub(last) < p.Cooldown {
				// A container that is still unhealthy right after a restart is
				// usually still starting; give it the cooldown before the next one.
				d.Reason = ReasonCooldown
			} else if spent, resume := budget.Exhausted(c.ID, now); spent {
				d.Reason, d.ResumeAt = ReasonRestartLimit, resume
			} else {
				d.Restart, d.Reason = true, ReasonUnhealthy
			}
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Container.Name < out[j].Container.Name })
	return out
}

// Forget drops restart times of containers that are gone or past the cooldown,
// so the map does not grow with every container ever restarted.
func Forget(now time.Time, cooldown time.Duration, lastRestart map[string]time.Time, present map[string]bool) {
	for id, t := range lastRestart {
		if !present[id] && now.Sub(t) >= cooldown {
			delete(lastRestart, id)
		}
	}
}
