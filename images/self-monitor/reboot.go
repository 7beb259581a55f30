package main

import (
	"sort"
	"strings"
	"time"
)

// After the Docker daemon restarts (a reboot, a package upgrade, a crash of
// dockerd) it starts again only containers whose policy is `always` or
// `unless-stopped`, and `on-failure` ones that had exited non-zero. The seed's
// workers are `on-failure:5` and stop cleanly on the daemon's SIGTERM (exit
// 0), so they stay down until someone deploys; the deploy itself sees no
// change. The monitor is `unless-stopped`, so it comes back with the daemon,
// and starts those workers itself.
//
// Telling "stopped with the daemon" from "stopped for a reason" is done with
// what the daemon records, not guessed from uptime:
//
//   - The monitor's own container says when the daemon went away and came
//     back: the monitor exits within a moment of the daemon's SIGTERM, so its
//     previous FinishedAt marks the shutdown, and its StartedAt the start.
//     Docker stops all containers at once on shutdown, each within its stop
//     timeout, so the workers it stopped finished between (monitor's previous
//     FinishedAt - ShutdownSlack) and the monitor's current StartedAt.
//   - Only a stop by signal counts: exit code 0 (the service handled SIGTERM)
//     or 143 (it died of SIGTERM), not killed for lack of memory. A crash
//     exits with another code; it is left to Docker's on-failure policy, so
//     the policy's retry cap still holds (a worker that used up its retries
//     exited non-zero and is never started here).
//   - Only `on-failure` containers: `always` and `unless-stopped` are the
//     daemon's own business, and `no` means nobody wants it back.
//
// A container stopped by hand well before the daemon went down finished
// before that window and stays stopped; one that exits 0 while the monitor
// runs finished after its StartedAt and stays stopped too. A monitor
// container that never ran before (a fresh deploy) has no previous FinishedAt,
// so it starts nothing. Starts count against the same Budget as restarts.

// ShutdownSlack is how long before the monitor's own exit another container
// of the stack may have been stopped by the same daemon shutdown. The daemon
// signals every container at once; the slack covers the monitor taking a
// little longer than a worker to notice.
const ShutdownSlack = 10 * time.Second

// ReasonStoppedWithDaemon: started because the daemon stopped it on shutdown.
const ReasonStoppedWithDaemon = "stopped-with-daemon"

// Run is one run of a container as `docker inspect` describes it.
type Run struct {
	StartedAt  time.Time
	FinishedAt time.Time // of the previous run while the container runs again
}

// Exited is an exited container of the stack, as inspected.
type Exited struct {
	Container
	RestartPolicy string
	ExitCode      int
	OOMKilled     bool
	Run
}

// stopExitCodes are the exit codes of a process that ended on the stop signal.
var stopExitCodes = map[int]bool{0: true, 128 + 15: true}

// ToStart picks the exited containers of the stack that the daemon stopped
// when it last shut down. self is the monitor's own container's current run.
func ToStart(now time.Time, stack string, self Run, exited []Exited, budget *Budget) []Decision {
	if self.FinishedAt.IsZero() || !self.FinishedAt.Before(self.StartedAt) {
		return nil
	}
	from, until := self.FinishedAt.Add(-ShutdownSlack), self.StartedAt
	var out []Decision
	for _, c := range exited {
		switch {
		case c.Labels[StackLabel] != stack,
			strings.EqualFold(strings.TrimSpace(c.Labels[OptOutLabel]), OptOutValue),
			c.RestartPolicy != "on-failure",
			!stopExitCodes[c.ExitCode] || c.OOMKilled,
			c.FinishedAt.Before(from) || c.FinishedAt.After(until):
			continue
		}
		d := Decision{Container: c.Container, Restart: true, Reason: ReasonStoppedWithDaemon}
		if spent, resume := budget.Exhausted(c.ID, now); spent {
			d.Restart, d.Reason, d.ResumeAt = false, ReasonRestartLimit, resume
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Container.Name < out[j].Container.Name })
	return out
}
