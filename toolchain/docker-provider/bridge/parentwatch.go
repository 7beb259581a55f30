package bridge

import (
	"os"
	"time"
)

// The engine starts a provider as its child and stops it at the end of the
// run. When the engine itself is killed (SIGKILL, an OOM kill, a closed CI
// job) nobody stops the provider: its gRPC server would wait for calls that
// never come, and a provider caught in a health wait stays for good, one per
// device of the run. A provider whose parent is gone therefore exits: what
// it was doing can no longer be recorded by anyone, and the next run
// reconciles the device from its state and what the device reports.

// parentCheckInterval is how often the provider looks at its parent.
const parentCheckInterval = time.Second

// ExitWithParent watches for the provider's parent to go away and then exits
// the process. Called once by the plugin's main.
func ExitWithParent() {
	go watchParent(os.Getppid, parentCheckInterval, func() { os.Exit(1) })
}

// watchParent calls exit once getppid reports a parent other than the one
// the process started with (an orphan is re-parented to init or to a
// subreaper). A process started with no parent of its own (ppid 1) has
// nothing to watch.
func watchParent(getppid func() int, every time.Duration, exit func()) {
	first := getppid()
	if first <= 1 {
		return
	}
	for {
		time.Sleep(every)
		if getppid() != first {
			exit()
			return
		}
	}
}
