package main

import (
	"testing"
	"time"
)

func TestBudgetCapsRestartsPerWindowAndResumes(t *testing.T) {
	b := NewBudget(3, time.Hour)
	for i := 0; i < 3; i++ {
		if spent, _ := b.Exhausted("a", t0.Add(time.Duration(i)*time.Minute)); spent {
			t.Fatalf("restart %d of 3 refused", i+1)
		}
		b.Spend("a", t0.Add(time.Duration(i)*time.Minute))
	}
	spent, resume := b.Exhausted("a", t0.Add(10*time.Minute))
	if !spent {
		t.Fatal("a fourth restart within the hour must be refused")
	}
	if want := t0.Add(time.Hour); !resume.Equal(want) {
		t.Fatalf("resumes at %v, want %v (the first restart leaves the window)", resume, want)
	}
	if spent, _ := b.Exhausted("b", t0.Add(10*time.Minute)); spent {
		t.Fatal("the cap is per container")
	}
	if spent, _ := b.Exhausted("a", t0.Add(time.Hour)); spent {
		t.Fatal("once the first restart is an hour old, one more is allowed")
	}
	if n := b.Used("a", t0.Add(time.Hour)); n != 2 {
		t.Fatalf("used %d within the window, want 2", n)
	}
}

func TestBudgetSlidingWindowKeepsAFlappingContainerCapped(t *testing.T) {
	// Restarted at 0, 20 and 40 minutes: at 61 minutes two are in the window,
	// one more is allowed, and then none until the 20-minute one is an hour old.
	b := NewBudget(3, time.Hour)
	for _, m := range []int{0, 20, 40} {
		b.Spend("a", t0.Add(time.Duration(m)*time.Minute))
	}
	if spent, _ := b.Exhausted("a", t0.Add(61*time.Minute)); spent {
		t.Fatal("at 61 minutes a restart is allowed")
	}
	b.Spend("a", t0.Add(61*time.Minute))
	spent, resume := b.Exhausted("a", t0.Add(62*time.Minute))
	if !spent || !resume.Equal(t0.Add(80*time.Minute)) {
		t.Fatalf("got %v until %v, want capped until 80 minutes", spent, resume)
	}
}

func TestBudgetPruneAndNil(t *testing.T) {
	b := NewBudget(1, time.Minute)
	b.Spend("old", t0)
	b.Spend("new", t0.Add(50*time.Second))
	b.Prune(t0.Add(70 * time.Second))
	if _, ok := b.spent["old"]; ok {
		t.Error("a container with no restart in the window must be forgotten")
	}
	if _, ok := b.spent["new"]; !ok {
		t.Error("a container with a restart in the window must be kept")
	}
	var none *Budget
	none.Spend("a", t0)
	if spent, _ := none.Exhausted("a", t0); spent {
		t.Error("no budget, no cap")
	}
}

func TestDecideLeavesAContainerAloneOnceItsRestartsAreUsedUp(t *testing.T) {
	p := Policy{Stack: "local", Cooldown: 30 * time.Second}
	b := NewBudget(2, 10*time.Minute)
	b.Spend("aaa", t0.Add(-5*time.Minute))
	b.Spend("aaa", t0.Add(-2*time.Minute))
	ds := Decide(t0, p, []Container{ctr("aaa", "scene_scanner", "local", nil), ctr("bbb", "tv_api", "local", nil)},
		map[string]time.Time{"aaa": t0.Add(-2 * time.Minute)}, b)
	got := reasons(ds)
	if got["scene_scanner"] != ReasonRestartLimit || got["tv_api"] != "RESTART:"+ReasonUnhealthy {
		t.Fatalf("got %v", got)
	}
	if !ds[0].ResumeAt.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("resumes at %v, want 5 minutes on", ds[0].ResumeAt)
	}
}
