package bridge

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestAProviderWhoseParentIsGoneExits(t *testing.T) {
	var ppid atomic.Int64
	ppid.Store(4242)
	exited := make(chan struct{})
	go watchParent(func() int { return int(ppid.Load()) }, time.Millisecond, func() { close(exited) })

	select {
	case <-exited:
		t.Fatal("exited while its parent was alive")
	case <-time.After(20 * time.Millisecond):
	}
	// The engine was killed: the kernel hands the provider to init.
	ppid.Store(1)
	select {
	case <-exited:
	case <-time.After(time.Second):
		t.Fatal("still running a second after its parent went away")
	}
}

func TestAProviderStartedByInitWatchesNothing(t *testing.T) {
	done := make(chan struct{})
	go func() {
		watchParent(func() int { return 1 }, time.Millisecond, func() { t.Error("exited") })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("kept watching a parent it never had")
	}
}
