// The service table and a service's life: start-up (environment, boot log,
// HTTP server), the loop of ticks, and exit on a signal, a crash request or
// STANDIN_EXIT_AFTER_SECONDS.

package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Service is what differs between the services: where they read and write and
// whether they answer HTTP.
type Service struct {
	Name     string
	Reads    []string // directories whose newest file an item refers to
	Writes   string   // directory for produced items and the boot log ("" = none)
	HTTPPort int      // 0 = no HTTP endpoint
	Prefix   string   // file name prefix of produced items
}

var services = map[string]Service{
	"agent_dvr":        {Name: "agent_dvr", Writes: "/app/input", Prefix: "recording"},
	"scene_scanner":    {Name: "scene_scanner", Reads: []string{"/app/input"}, Writes: "/app/processed", Prefix: "scene"},
	"scene_summarizer": {Name: "scene_summarizer", Reads: []string{"/app/processed"}, Writes: "/app/summaries", Prefix: "summary"},
	"logline_writer":   {Name: "logline_writer", Reads: []string{"/app/summaries"}, Writes: "/app/loglines", Prefix: "logline"},
	"playlist_manager": {Name: "playlist_manager", Reads: []string{"/app/loglines"}, Writes: "/app/playlists", Prefix: "playlist"},
	"tv_api":           {Name: "tv_api", Reads: []string{"/app/playlists"}, HTTPPort: 8000},
	"orchestrator":     {Name: "orchestrator", Reads: []string{"/app/input", "/app/processed"}},
	"prometheus":       {Name: "prometheus", Writes: "/prometheus", HTTPPort: 9090, Prefix: "block"},
	"grafana":          {Name: "grafana", Writes: "/var/lib/grafana", HTTPPort: 3000, Prefix: "snapshot"},
}

type state struct {
	svc     Service
	log     *logger
	started time.Time
	mu      sync.Mutex
	ticks   int64
	seq     int64
	warned  map[string]bool
	lastIn  map[string]string
}

func run(name string) int {
	svc, ok := services[name]
	if !ok {
		names := make([]string, 0, len(services))
		for n := range services {
			names = append(names, n)
		}
		sort.Strings(names)
		fatalf("STANDIN_SERVICE must be one of %s, got %q", strings.Join(names, ", "), name)
	}
	version := os.Getenv("STANDIN_VERSION")
	if version == "" {
		version = "dev"
	}
	lg := &logger{service: name, version: version}
	st := &state{svc: svc, log: lg, started: time.Now(), warned: map[string]bool{}, lastIn: map[string]string{}}

	_ = os.Remove(unhealthyFile)
	_ = os.Remove(healedFile)
	_ = os.Remove(crashFile)

	tick := envSeconds("STANDIN_TICK_SECONDS", 5)
	if tick <= 0 {
		tick = time.Second
	}
	exitAfter := envSeconds("STANDIN_EXIT_AFTER_SECONDS", 0)
	stopDelay := envSeconds("STANDIN_STOP_DELAY_SECONDS", 0)
	var ballast []byte
	if mib, _ := strconv.Atoi(os.Getenv("STANDIN_MEMORY_MIB")); mib > 0 {
		ballast = make([]byte, mib<<20)
		for i := 0; i < len(ballast); i += 4096 {
			ballast[i] = 1
		}
	}

	host, _ := os.Hostname()
	lg.log("info", "starting", "hostname", host, "unhealthy", unhealthy(), "tickSeconds", tick.Seconds(),
		"env", map[string]string{"LOG_LEVEL": os.Getenv("LOG_LEVEL"), "TZ": os.Getenv("TZ"), "ORCHESTRATOR_INTERVAL": os.Getenv("ORCHESTRATOR_INTERVAL")},
		"ballastMiB", len(ballast)>>20)
	st.boot(host, version)

	if svc.HTTPPort != 0 {
		port := svc.HTTPPort
		if p, err := strconv.Atoi(os.Getenv("STANDIN_HTTP_PORT")); err == nil && p > 0 {
			port = p
		}
		go st.serveHTTP(port, version)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	var deadline <-chan time.Time
	if exitAfter > 0 {
		deadline = time.After(exitAfter)
	}

	st.work()
	for {
		select {
		case s := <-sigs:
			lg.log("info", "stopping", "signal", s.String(), "delaySeconds", stopDelay.Seconds())
			time.Sleep(stopDelay)
			lg.log("info", "stopped")
			return 0
		case <-deadline:
			lg.log("error", "exiting as configured by STANDIN_EXIT_AFTER_SECONDS", "exitCode", 1)
			return 1
		case <-poll.C:
			if b, err := os.ReadFile(crashFile); err == nil {
				code, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				_ = os.Remove(crashFile)
				lg.log("error", "crashing on request", "exitCode", code)
				return code
			}
		case <-ticker.C:
			st.work()
		}
		_ = ballast
	}
}

func envSeconds(name string, def float64) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return time.Duration(def * float64(time.Second))
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		fatalf("%s must be a non-negative number of seconds, got %q", name, v)
	}
	return time.Duration(f * float64(time.Second))
}

// boot appends one line per start to the service's boot log, so tests can
// tell whether a data directory survived a container being replaced.
func (st *state) boot(host, version string) {
	if st.svc.Writes == "" {
		return
	}
	line := fmt.Sprintf("%s boot service=%s version=%s hostname=%s\n", time.Now().UTC().Format(time.RFC3339), st.svc.Name, version, host)
	f, err := os.OpenFile(filepath.Join(st.svc.Writes, st.svc.Name+".boots"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		st.warnOnce("boot", "cannot write boot log", err)
		return
	}
	defer f.Close()
	_, _ = f.WriteString(line)
}
