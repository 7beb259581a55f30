package main

import (
	"testing"
	"time"
)

// The daemon went down at t0 (the monitor's previous run ended then) and came
// back 2 minutes later.
var (
	shutdown = t0
	boot     = t0.Add(2 * time.Minute)
	selfRun  = Run{StartedAt: boot.Add(time.Second), FinishedAt: shutdown}
)

func exited(id, name, policy string, code int, finished time.Time) Exited {
	return Exited{
		Container:     ctr(id, name, "local", nil),
		RestartPolicy: policy,
		ExitCode:      code,
		Run:           Run{StartedAt: finished.Add(-time.Hour), FinishedAt: finished},
	}
}

func started(ds []Decision) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		if d.Restart {
			out[d.Container.Name] = d.Reason
		}
	}
	return out
}

func TestToStartStartsOnFailureWorkersTheDaemonStopped(t *testing.T) {
	oom := exited("o", "oom_killed", "on-failure", 0, shutdown.Add(time.Second))
	oom.OOMKilled = true
	other := exited("x", "other_stack", "on-failure", 0, shutdown.Add(time.Second))
	other.Labels[StackLabel] = "prod"
	optedOut := exited("y", "opted_out", "on-failure", 0, shutdown.Add(time.Second))
	optedOut.Labels[OptOutLabel] = "off"
	got := started(ToStart(boot.Add(5*time.Second), "local", selfRun, []Exited{
		exited("a", "scene_scanner", "on-failure", 0, shutdown.Add(2*time.Second)),
		exited("b", "scene_summarizer", "on-failure", 143, shutdown.Add(15*time.Second)),
		exited("c", "logline_writer", "on-failure", 0, shutdown.Add(-3*time.Second)),
		exited("d", "crashed", "on-failure", 1, shutdown.Add(time.Second)),
		exited("e", "crashed_beyond_cap", "on-failure", 2, shutdown.Add(-time.Hour)),
		exited("f", "killed_after_grace", "on-failure", 137, shutdown.Add(30*time.Second)),
		exited("g", "stopped_by_hand_earlier", "on-failure", 0, shutdown.Add(-10*time.Minute)),
		exited("h", "exited_after_boot", "on-failure", 0, boot.Add(3*time.Second)),
		exited("i", "always_one", "always", 0, shutdown.Add(time.Second)),
		exited("j", "unless_stopped_one", "unless-stopped", 0, shutdown.Add(time.Second)),
		exited("k", "no_policy", "no", 0, shutdown.Add(time.Second)),
		oom, other, optedOut,
	}, nil))
	want := map[string]string{
		"scene_scanner":    ReasonStoppedWithDaemon,
		"scene_summarizer": ReasonStoppedWithDaemon,
		"logline_writer":   ReasonStoppedWithDaemon,
	}
	if len(got) != len(want) {
		t.Fatalf("started %v, want exactly %v", got, want)
	}
	for n, r := range want {
		if got[n] != r {
			t.Errorf("%s: got %q, want %q", n, got[n], r)
		}
	}
}

func TestToStartDoesNothingOnTheMonitorsFirstRun(t *testing.T) {
	// A fresh container has never finished: Docker reports the zero time.
	first := Run{StartedAt: boot}
	ds := ToStart(boot.Add(time.Minute), "local", first, []Exited{exited("a", "scene_scanner", "on-failure", 0, boot.Add(-time.Second))}, nil)
	if len(ds) != 0 {
		t.Fatalf("started %v on a first run", ds)
	}
}

func TestToStartCountsAgainstTheBudget(t *testing.T) {
	b := NewBudget(1, time.Hour)
	b.Spend("a", boot)
	ds := ToStart(boot.Add(time.Minute), "local", selfRun, []Exited{exited("a", "scene_scanner", "on-failure", 0, shutdown.Add(time.Second))}, b)
	if len(ds) != 1 || ds[0].Restart || ds[0].Reason != ReasonRestartLimit {
		t.Fatalf("got %+v, want one skip for the restart limit", ds)
	}
}
