package main

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func inspectJSON(id, name, policy string, code int, started, finished string) string {
	return `{"Id":"` + id + `","Name":"/` + name + `","State":{"ExitCode":` + itoa(code) + `,"OOMKilled":false,"StartedAt":"` + started +
		`","FinishedAt":"` + finished + `"},"Config":{"Labels":{"edge-fleet.stack":"local"}},"HostConfig":{"RestartPolicy":{"Name":"` + policy + `"}}}`
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCycleStartsWorkersStoppedWithTheDaemonOnce(t *testing.T) {
	f := &fakeDaemon{
		list: []apiContainer{
			{ID: "self00000000aaaa", Names: []string{"/self_monitor"}, Labels: map[string]string{StackLabel: "local"}, Status: "Up 3 seconds (health: starting)"},
			{ID: "scan", Names: []string{"/scene_scanner"}, Labels: map[string]string{StackLabel: "local"}, Status: "Exited (0) 40 seconds ago"},
			{ID: "crash", Names: []string{"/logline_writer"}, Labels: map[string]string{StackLabel: "local"}, Status: "Exited (1) 40 seconds ago"},
		},
		inspect: map[string]string{
			// The daemon stopped at 12:00:00 and came back at 12:00:40.
			"self00000000": inspectJSON("self00000000aaaa", "self_monitor", "unless-stopped", 0, "2025-01-01T12:00:41.5Z", "2025-01-01T12:00:00.2Z"),
			"scan":         inspectJSON("scan", "scene_scanner", "on-failure", 0, "2025-01-01T11:00:00Z", "2025-01-01T12:00:01.123456789Z"),
			"crash":        inspectJSON("crash", "logline_writer", "on-failure", 1, "2025-01-01T11:00:00Z", "2025-01-01T12:00:01Z"),
		},
	}
	m := newMonitor(Config{Stack: "local", Interval: time.Second, Cooldown: time.Second, RestartTimeout: time.Second, MaxRestarts: 3, RestartWindow: time.Hour},
		NewDockerClient(startFake(t, f)), &jsonLog{}, "self00000000")
	if err := m.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(f.started) != 1 || f.started[0] != "scan" {
		t.Fatalf("started %v, want scene_scanner only (logline_writer crashed)", f.started)
	}
	// Now it runs; the daemon lists it no more among the exited ones.
	f.list = f.list[:1]
	if err := m.cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(f.started) != 1 {
		t.Fatalf("started again: %v", f.started)
	}
}

func TestCycleGivesUpAfterMaxRestarts(t *testing.T) {
	f := &fakeDaemon{list: []apiContainer{
		{ID: "aaa111", Names: []string{"/tv_api"}, Labels: map[string]string{StackLabel: "local"}, Status: "Up 1 minute (unhealthy)"},
	}}
	m := newMonitor(Config{Stack: "local", Interval: time.Second, Cooldown: 0, RestartTimeout: time.Second, MaxRestarts: 2, RestartWindow: time.Hour},
		NewDockerClient(startFake(t, f)), &jsonLog{}, "")
	for i := 0; i < 5; i++ {
		if err := m.cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.restarted) != 2 {
		t.Fatalf("restarted %d times, want 2 (maxRestarts)", len(f.restarted))
	}
	if m.lastSkip["aaa111"] != ReasonRestartLimit {
		t.Fatalf("skip reason %q, want %q", m.lastSkip["aaa111"], ReasonRestartLimit)
	}
}

func TestCycleNeverRestartsItselfEvenWhenItCannotInspectItself(t *testing.T) {
	f := &fakeDaemon{list: []apiContainer{
		{ID: "self00000000aaaa", Names: []string{"/self_monitor"}, Labels: map[string]string{StackLabel: "local"}, Status: "Up 1 minute (unhealthy)"},
	}}
	m := newMonitor(Config{Stack: "local", Interval: time.Second, RestartTimeout: time.Second, MaxRestarts: 3, RestartWindow: time.Hour},
		NewDockerClient(startFake(t, f)), &jsonLog{}, "self00000000")
	for i := 0; i < 2; i++ {
		if err := m.cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.restarted) != 0 || len(f.started) != 0 {
		t.Fatalf("restarted %v, started %v: the monitor must leave itself alone", f.restarted, f.started)
	}
}
