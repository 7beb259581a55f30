// Command standin plays one of the edge services in the simulated fleet, so a
// deploy can be exercised end to end without the real (GPU, camera, model)
// images. It honours each service's contract as the stack sees it: the
// heartbeat file or HTTP endpoint its healthcheck probes, the data directories
// it reads and writes, and its exit behaviour on SIGTERM.
//
// Usage inside a container:
//
//	/standin                      run the service named by STANDIN_SERVICE
//	/standin run SERVICE          run SERVICE
//	/standin fail-health [--sticky]  turn unhealthy (sticky: survives restarts)
//	/standin heal                 turn healthy again (also overrides STANDIN_UNHEALTHY)
//	/standin crash [CODE]         make the running service exit with CODE (default 1)
//	/standin state                print the service's fault state as JSON
//
// Environment:
//
//	STANDIN_SERVICE            agent_dvr, scene_scanner, scene_summarizer, logline_writer,
//	                           playlist_manager, tv_api, orchestrator, prometheus, grafana
//	STANDIN_VERSION            release reported in logs and /status (baked into each image)
//	STANDIN_UNHEALTHY=1        unhealthy from the start (the "-unhealthy" releases)
//	STANDIN_TICK_SECONDS       heartbeat and work interval, default 5
//	STANDIN_EXIT_AFTER_SECONDS exit with code 1 after this long (restart-policy tests)
//	STANDIN_STOP_DELAY_SECONDS linger this long after SIGTERM (stop-grace tests)
//	STANDIN_MEMORY_MIB         allocate and touch this much memory at start (limit tests)
//	STANDIN_HTTP_PORT          override the HTTP port of tv_api, prometheus, grafana
package main

import (
	"fmt"
	"os"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		os.Exit(run(os.Getenv("STANDIN_SERVICE")))
	}
	switch args[0] {
	case "run":
		if len(args) < 2 {
			fatalf("usage: standin run SERVICE")
		}
		os.Exit(run(args[1]))
	case "fail-health":
		failHealth(args)
	case "heal":
		heal()
	case "crash":
		crash(args)
	case "state":
		printState()
	case "-h", "--help", "help":
		fmt.Println("usage: standin [run SERVICE | fail-health [--sticky] | heal | crash [CODE] | state]")
	default:
		fatalf("unknown command %q", args[0])
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "standin: "+format+"\n", a...)
	os.Exit(2)
}

func must(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}
