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
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
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

// Control files live in the container's own /tmp: `docker exec` can reach them,
// and they are per container. Non-sticky faults are cleared at start, because a
// restart is what cures a hung process; a sticky fault models one it does not cure.
const (
	unhealthyFile       = "/tmp/unhealthy"
	unhealthyStickyFile = "/tmp/unhealthy.sticky"
	healedFile          = "/tmp/healed"
	crashFile           = "/tmp/crash"
	heartbeatFile       = "/app/heartbeat"
	keepItems           = 20
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
		file := unhealthyFile
		if len(args) > 1 && args[1] == "--sticky" {
			file = unhealthyStickyFile
		}
		must(os.WriteFile(file, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644))
		_ = os.Remove(healedFile)
	case "heal":
		_ = os.Remove(unhealthyFile)
		_ = os.Remove(unhealthyStickyFile)
		must(os.WriteFile(healedFile, []byte("1\n"), 0o644))
	case "crash":
		code := "1"
		if len(args) > 1 {
			if _, err := strconv.Atoi(args[1]); err != nil {
				fatalf("crash: exit code must be a number")
			}
			code = args[1]
		}
		must(os.WriteFile(crashFile, []byte(code+"\n"), 0o644))
	case "state":
		out, _ := json.Marshal(map[string]any{"unhealthy": unhealthy(), "crashRequested": exists(crashFile)})
		fmt.Println(string(out))
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

// logger writes one JSON object per line, as the real services do.
type logger struct {
	mu      sync.Mutex
	service string
	version string
}

func (l *logger) log(level, msg string, kv ...any) {
	rec := map[string]any{"ts": time.Now().UTC().Format(time.RFC3339Nano), "level": level, "service": l.service, "version": l.version, "msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		rec[fmt.Sprint(kv[i])] = kv[i+1]
	}
	b, _ := json.Marshal(rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	os.Stdout.Write(append(b, '\n'))
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

func (st *state) warnOnce(key, msg string, err error) {
	st.mu.Lock()
	seen := st.warned[key]
	st.warned[key] = true
	st.mu.Unlock()
	if !seen {
		st.log.log("warn", msg, "error", err.Error())
	}
}

// work is one tick: heartbeat (or its removal when unhealthy), then one item.
func (st *state) work() {
	st.mu.Lock()
	st.ticks++
	st.mu.Unlock()
	if unhealthy() {
		// The seed's check is `find /app/heartbeat -mmin -N`, which fails only
		// when the file is missing; a stale file would still pass it.
		if err := os.Remove(heartbeatFile); err == nil {
			st.log.log("warn", "unhealthy: heartbeat removed")
		}
		return
	}
	if err := os.WriteFile(heartbeatFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		st.warnOnce("heartbeat", "cannot write heartbeat", err)
	}
	inputs := map[string]any{}
	for _, dir := range st.svc.Reads {
		n, newest, err := scan(dir)
		if err != nil {
			st.warnOnce("read:"+dir, "cannot read input directory", err)
			continue
		}
		inputs[dir] = map[string]any{"files": n, "newest": newest}
		st.mu.Lock()
		changed := st.lastIn[dir] != newest
		st.lastIn[dir] = newest
		st.mu.Unlock()
		if changed && newest != "" {
			st.log.log("info", "new input", "dir", dir, "file", newest, "files", n)
		}
	}
	if st.svc.Writes == "" || st.svc.Prefix == "" {
		return
	}
	st.mu.Lock()
	st.seq++
	seq := st.seq
	st.mu.Unlock()
	name := fmt.Sprintf("%s-%s-%06d.json", st.svc.Prefix, time.Now().UTC().Format("20060102T150405"), seq)
	body, _ := json.Marshal(map[string]any{"service": st.svc.Name, "seq": seq, "at": time.Now().UTC().Format(time.RFC3339Nano), "inputs": inputs})
	tmp := filepath.Join(st.svc.Writes, "."+name+".tmp")
	if err := os.WriteFile(tmp, append(body, '\n'), 0o644); err != nil {
		st.warnOnce("write", "cannot write output directory", err)
		return
	}
	if err := os.Rename(tmp, filepath.Join(st.svc.Writes, name)); err != nil {
		st.warnOnce("write", "cannot write output directory", err)
		return
	}
	prune(st.svc.Writes, st.svc.Prefix+"-", keepItems)
}

// scan counts the regular, non-hidden files in dir and names the newest.
func scan(dir string) (int, string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, "", err
	}
	n, newest := 0, ""
	var newestT time.Time
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		n++
		if info.ModTime().After(newestT) || (info.ModTime().Equal(newestT) && e.Name() > newest) {
			newestT, newest = info.ModTime(), e.Name()
		}
	}
	return n, newest, nil
}

// prune keeps the newest `keep` items with the prefix, so a device left running
// for days does not fill its disk.
func prune(dir, prefix string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var mine []fs.DirEntry
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), prefix) {
			mine = append(mine, e)
		}
	}
	// Names embed a timestamp and sequence number, so name order is age order.
	sort.Slice(mine, func(i, j int) bool { return mine[i].Name() < mine[j].Name() })
	for len(mine) > keep {
		_ = os.Remove(filepath.Join(dir, mine[0].Name()))
		mine = mine[1:]
	}
}

func (st *state) serveHTTP(port int, version string) {
	mux := http.NewServeMux()
	status := func(w http.ResponseWriter, _ *http.Request) {
		body := map[string]any{"service": st.svc.Name, "version": version, "uptimeSeconds": int(time.Since(st.started).Seconds())}
		for _, dir := range st.svc.Reads {
			if n, newest, err := scan(dir); err == nil {
				body[filepath.Base(dir)] = map[string]any{"files": n, "newest": newest}
			}
		}
		code := http.StatusOK
		body["status"] = "ok"
		if unhealthy() {
			code = http.StatusServiceUnavailable
			body["status"] = "unhealthy"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
	plain := func(okText string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if unhealthy() {
				http.Error(w, "unhealthy", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, okText)
		}
	}
	mux.HandleFunc("/status", status)
	switch st.svc.Name {
	case "prometheus":
		mux.HandleFunc("/-/healthy", plain("Prometheus Server is Healthy."))
		mux.HandleFunc("/-/ready", plain("Prometheus Server is Ready."))
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			st.mu.Lock()
			ticks := st.ticks
			st.mu.Unlock()
			fmt.Fprintf(w, "# TYPE standin_ticks_total counter\nstandin_ticks_total %d\n", ticks)
		})
	case "grafana":
		mux.HandleFunc("/api/health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if unhealthy() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(map[string]string{"database": "failing", "version": version})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"commit": "standin", "database": "ok", "version": version})
		})
	case "tv_api":
		mux.HandleFunc("/playlists", func(w http.ResponseWriter, _ *http.Request) {
			entries, err := os.ReadDir("/app/playlists")
			names := []string{}
			if err == nil {
				for _, e := range entries {
					if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
						names = append(names, e.Name())
					}
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"playlists": names})
		})
	}
	srv := &http.Server{Addr: fmt.Sprintf(":%d", port), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	st.log.log("info", "listening", "port", port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		st.log.log("error", "http server failed", "error", err.Error())
		os.Exit(1)
	}
}
