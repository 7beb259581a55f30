package main

import (
	"context"
	"os"
	"time"
)

type monitor struct {
	cfg         Config
	docker      *DockerClient
	log         *jsonLog
	selfID      string
	lastRestart map[string]time.Time
	lastSkip    map[string]string
	budget      *Budget
	// self is the monitor's own container's run, read once: it does not
	// change while this process lives. selfKnown is false until it was read.
	self       Run
	selfKnown  bool
	selfWarned bool
}

func newMonitor(cfg Config, docker *DockerClient, lg *jsonLog, selfID string) *monitor {
	return &monitor{cfg: cfg, docker: docker, log: lg, selfID: selfID,
		lastRestart: map[string]time.Time{}, lastSkip: map[string]string{},
		budget: NewBudget(cfg.MaxRestarts, cfg.RestartWindow)}
}

// cycle is one check: list, decide, act. It returns an error only when the
// daemon could not be asked at all.
func (m *monitor) cycle(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	list, err := m.docker.UnhealthyContainers(lctx, m.cfg.Stack)
	if err != nil {
		return err
	}
	_ = os.WriteFile(aliveFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
	now := time.Now()
	present := map[string]bool{}
	for _, c := range list {
		present[c.ID] = true
	}
	decisions := Decide(now, Policy{Stack: m.cfg.Stack, Cooldown: m.cfg.Cooldown, SelfID: m.selfID}, list, m.lastRestart, m.budget)
	for _, d := range m.stoppedWithDaemon(lctx, now) {
		present[d.Container.ID] = true
		decisions = append(decisions, d)
	}
	for _, d := range decisions {
		m.act(ctx, now, d)
	}
	for id := range m.lastSkip {
		if !present[id] {
			delete(m.lastSkip, id)
		}
	}
	Forget(now, m.cfg.Cooldown, m.lastRestart, present)
	m.budget.Prune(now)
	return nil
}

// stoppedWithDaemon lists the exited containers the daemon's last shutdown
// stopped (see reboot.go). Errors are logged, not returned: the unhealthy
// check above already reached the daemon, and must go on.
func (m *monitor) stoppedWithDaemon(ctx context.Context, now time.Time) []Decision {
	if !m.selfKnown {
		if m.selfID == "" {
			return nil
		}
		self, err := m.docker.Inspect(ctx, m.selfID)
		if err != nil {
			// Not in a container, or a host name that is not the container's
			// ID: asked again next cycle, said once.
			if !m.selfWarned {
				m.log.write("warn", "self", "error", err.Error(), "result", "containers stopped with the daemon are not started")
				m.selfWarned = true
			}
			return nil
		}
		m.self, m.selfKnown = self.Run, true
	}
	exited, err := m.docker.ExitedContainers(ctx, m.cfg.Stack)
	if err != nil {
		m.log.write("error", "list-exited", "stack", m.cfg.Stack, "error", err.Error())
		return nil
	}
	var inspected []Exited
	for _, c := range exited {
		e, err := m.docker.Inspect(ctx, c.ID)
		if err != nil {
			m.log.write("error", "inspect", "container", c.Name, "id", shortID(c.ID), "error", err.Error())
			continue
		}
		inspected = append(inspected, e)
	}
	return ToStart(now, m.cfg.Stack, m.self, inspected, m.budget)
}

// act carries out one decision and writes one JSON line about it.
func (m *monitor) act(ctx context.Context, now time.Time, d Decision) {
	c := d.Container
	if !d.Restart {
		// A skip is logged when it starts, not on every cycle it lasts.
		if m.lastSkip[c.ID] == d.Reason {
			return
		}
		m.lastSkip[c.ID] = d.Reason
		if d.Reason == ReasonRestartLimit {
			m.log.write("warn", "give-up", "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack,
				"reason", d.Reason, "restarts", m.budget.Used(c.ID, now), "windowSeconds", int(m.cfg.RestartWindow.Seconds()),
				"resumesAt", d.ResumeAt.UTC().Format(time.RFC3339))
			return
		}
		m.log.write("info", "skip", "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack, "reason", d.Reason)
		return
	}
	delete(m.lastSkip, c.ID)
	m.lastRestart[c.ID] = now
	m.budget.Spend(c.ID, now)
	event := "restart"
	rctx, rcancel := context.WithTimeout(ctx, m.cfg.RestartTimeout+60*time.Second)
	defer rcancel()
	start := time.Now()
	var err error
	if d.Reason == ReasonStoppedWithDaemon {
		event = "start"
		err = m.docker.Start(rctx, c.ID)
	} else {
		err = m.docker.Restart(rctx, c.ID, m.cfg.RestartTimeout)
	}
	if err != nil {
		m.log.write("error", event, "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack,
			"reason", d.Reason, "result", "error", "error", err.Error())
		return
	}
	m.log.write("info", event, "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack,
		"reason", d.Reason, "result", "ok", "durationMs", time.Since(start).Milliseconds(),
		"restartsInWindow", m.budget.Used(c.ID, now))
}
