// Fault commands: the control files that `docker exec C /standin ...` writes
// and the running service reads, the fail-health, heal, crash and state
// commands that write them, and the health test they drive.

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Control files live in the container's own /tmp: `docker exec` can reach them,
// and they are per container. Non-sticky faults are cleared at start, because a
// restart is what cures a hung process; a sticky fault models one it does not cure.
const (
	unhealthyFile       = "/tmp/unhealthy"
	unhealthyStickyFile = "/tmp/unhealthy.sticky"
	healedFile          = "/tmp/healed"
	crashFile           = "/tmp/crash"
)

// failHealth, heal, crash and printState take the arguments as main has them,
// the command first.
func failHealth(args []string) {
	file := unhealthyFile
	if len(args) > 1 && args[1] == "--sticky" {
		file = unhealthyStickyFile
	}
	must(os.WriteFile(file, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644))
	_ = os.Remove(healedFile)
}

func heal() {
	_ = os.Remove(unhealthyFile)
	_ = os.Remove(unhealthyStickyFile)
	must(os.WriteFile(healedFile, []byte("1\n"), 0o644))
}

func crash(args []string) {
	code := "1"
	if len(args) > 1 {
		if _, err := strconv.Atoi(args[1]); err != nil {
			fatalf("crash: exit code must be a number")
		}
		code = args[1]
	}
	must(os.WriteFile(crashFile, []byte(code+"\n"), 0o644))
}

func printState() {
	out, _ := json.Marshal(map[string]any{"unhealthy": unhealthy(), "crashRequested": exists(crashFile)})
	fmt.Println(string(out))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func unhealthy() bool {
	if exists(unhealthyFile) || exists(unhealthyStickyFile) {
		return true
	}
	return os.Getenv("STANDIN_UNHEALTHY") == "1" && !exists(healedFile)
}
