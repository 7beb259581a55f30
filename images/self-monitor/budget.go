package main

import "time"

// Budget caps how often the monitor restarts one container: at most Max
// restarts within any Window. A service that stays unhealthy however often it
// is restarted (a broken release, a dead camera, a full disk) would otherwise
// be restarted every cooldown forever, which hides the fault and keeps the
// device busy. Once the cap is reached the container is left alone until its
// oldest counted restart is older than the window (a sliding window); turning
// healthy in between does not reset the count, so a container that flaps
// between healthy and unhealthy is capped too.
type Budget struct {
	Max    int
	Window time.Duration
	spent  map[string][]time.Time
}

func NewBudget(max int, window time.Duration) *Budget {
	return &Budget{Max: max, Window: window, spent: map[string][]time.Time{}}
}

// recent drops the restarts of a container that left the window.
func (b *Budget) recent(id string, now time.Time) []time.Time {
	kept := b.spent[id][:0]
	for _, t := range b.spent[id] {
		if now.Sub(t) < b.Window {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(b.spent, id)
		return nil
	}
	b.spent[id] = kept
	return kept
}

// Exhausted says whether the container used up its restarts, and when the
// oldest of them leaves the window (when the monitor may act again).
func (b *Budget) Exhausted(id string, now time.Time) (bool, time.Time) {
	if b == nil || b.Max <= 0 {
		return false, time.Time{}
	}
	r := b.recent(id, now)
	if len(r) < b.Max {
		return false, time.Time{}
	}
	return true, r[len(r)-b.Max].Add(b.Window)
}

// Spend records one restart (or start) of the container.
func (b *Budget) Spend(id string, now time.Time) {
	if b == nil {
		return
	}
	b.spent[id] = append(b.recent(id, now), now)
}

// Used is the number of restarts of the container within the window.
func (b *Budget) Used(id string, now time.Time) int {
	if b == nil {
		return 0
	}
	return len(b.recent(id, now))
}

// Prune forgets containers with no restart inside the window, so the map does
// not grow with every container ever restarted.
func (b *Budget) Prune(now time.Time) {
	if b == nil {
		return
	}
	for id := range b.spent {
		b.recent(id, now)
	}
}
