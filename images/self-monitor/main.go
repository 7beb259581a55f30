// Command self-monitor restarts the containers of one stack that Docker
// reports unhealthy. Docker itself only records health; a restart policy acts
// on exits, not on failed healthchecks, so without this an unhealthy service
// stays unhealthy until someone looks.
//
// Environment:
//
//	SELF_MONITOR_STACK                    value of the edge-fleet.stack label to watch (required)
//	SELF_MONITOR_INTERVAL_SECONDS         seconds between checks, default 30
//	SELF_MONITOR_COOLDOWN_SECONDS         minimum seconds between two restarts of one container,
//	                                      default: the interval
//	SELF_MONITOR_RESTART_TIMEOUT_SECONDS  grace before SIGKILL on restart, default 10
//	DOCKER_HOST                           unix:///path of the Engine API, default unix:///var/run/docker.sock
//
// Containers labelled edge-fleet.self-monitor=off are left alone. Each action
// is one JSON line on stdout. `self-monitor -healthcheck` exits 0 while the
// loop has reached the daemon recently (it is the container's healthcheck).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const aliveFile = "/tmp/self-monitor.alive"

type Config struct {
	Stack          string
	Interval       time.Duration
	Cooldown       time.Duration
	RestartTimeout time.Duration
	Socket         string
}

func seconds(getenv func(string) string, name string, def int, min int) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return time.Duration(def) * time.Second, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("%s must be a whole number of seconds >= %d, got %q", name, min, v)
	}
	return time.Duration(n) * time.Second, nil
}

// LoadConfig reads the environment; errors name the variable at fault.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	var err error
	c.Stack = strings.TrimSpace(getenv("SELF_MONITOR_STACK"))
	if c.Stack == "" {
		return c, fmt.Errorf("SELF_MONITOR_STACK must name the stack whose containers to watch")
	}
	if c.Interval, err = seconds(getenv, "SELF_MONITOR_INTERVAL_SECONDS", 30, 1); err != nil {
		return c, err
	}
	if c.Cooldown, err = seconds(getenv, "SELF_MONITOR_COOLDOWN_SECONDS", int(c.Interval/time.Second), 0); err != nil {
		return c, err
	}
	if c.RestartTimeout, err = seconds(getenv, "SELF_MONITOR_RESTART_TIMEOUT_SECONDS", 10, 0); err != nil {
		return c, err
	}
	c.Socket = "/var/run/docker.sock"
	if h := strings.TrimSpace(getenv("DOCKER_HOST")); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			return c, fmt.Errorf("DOCKER_HOST must be a unix:// socket, got %q", h)
		}
		c.Socket = strings.TrimPrefix(h, "unix://")
	}
	return c, nil
}

type jsonLog struct{ mu sync.Mutex }

func (l *jsonLog) write(level, event string, kv ...any) {
	rec := map[string]any{"ts": time.Now().UTC().Format(time.RFC3339Nano), "level": level, "event": event}
	for i := 0; i+1 < len(kv); i += 2 {
		rec[fmt.Sprint(kv[i])] = kv[i+1]
	}
	b, _ := json.Marshal(rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// healthcheck passes while the loop has listed containers within three
// intervals (the interval is read from the same environment as the loop).
func healthcheck() int {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	info, err := os.Stat(aliveFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "no successful check yet")
		return 1
	}
	if age := time.Since(info.ModTime()); age > 3*cfg.Interval+30*time.Second {
		fmt.Fprintf(os.Stderr, "last successful check %s ago\n", age.Round(time.Second))
		return 1
	}
	return 0
}

type monitor struct {
	cfg         Config
	docker      *DockerClient
	log         *jsonLog
	selfID      string
	lastRestart map[string]time.Time
	lastSkip    map[string]string
}

// cycle is one check: list, decide, act. It returns an error only when the
// daemon could not be asked at all.
func (m *monitor) cycle(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	list, err := m.docker.UnhealthyContainers(lctx, m.cfg.Stack)
	if err != nil {
		return err
	}
	_ = os.WriteFile(aliveFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
	now := time.Now()
	present := map[string]bool{}
	for _, c := range list {
		present[c.ID] = true
	}
	for _, d := range Decide(now, Policy{Stack: m.cfg.Stack, Cooldown: m.cfg.Cooldown, SelfID: m.selfID}, list, m.lastRestart) {
		c := d.Container
		if !d.Restart {
			// A skip is logged when it starts, not on every cycle it lasts.
			if m.lastSkip[c.ID] != d.Reason {
				m.log.write("info", "skip", "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack, "reason", d.Reason)
				m.lastSkip[c.ID] = d.Reason
			}
			continue
		}
		delete(m.lastSkip, c.ID)
		m.lastRestart[c.ID] = now
		rctx, rcancel := context.WithTimeout(ctx, m.cfg.RestartTimeout+60*time.Second)
		start := time.Now()
		err := m.docker.Restart(rctx, c.ID, m.cfg.RestartTimeout)
		rcancel()
		if err != nil {
			m.log.write("error", "restart", "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack,
				"reason", d.Reason, "result", "error", "error", err.Error())
			continue
		}
		m.log.write("info", "restart", "container", c.Name, "id", shortID(c.ID), "stack", m.cfg.Stack,
			"reason", d.Reason, "result", "ok", "durationMs", time.Since(start).Milliseconds())
	}
	for id := range m.lastSkip {
		if !present[id] {
			delete(m.lastSkip, id)
		}
	}
	Forget(now, m.cfg.Cooldown, m.lastRestart, present)
	return nil
}

func main() {
	hc := flag.Bool("healthcheck", false, "exit 0 if the monitor loop is alive, 1 otherwise")
	once := flag.Bool("once", false, "run one check and exit (for troubleshooting)")
	flag.Parse()
	if *hc {
		os.Exit(healthcheck())
	}
	lg := &jsonLog{}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		lg.write("error", "config", "error", err.Error())
		os.Exit(2)
	}
	host, _ := os.Hostname()
	m := &monitor{cfg: cfg, docker: NewDockerClient(cfg.Socket), log: lg, selfID: host,
		lastRestart: map[string]time.Time{}, lastSkip: map[string]string{}}
	lg.write("info", "start", "stack", cfg.Stack, "intervalSeconds", int(cfg.Interval.Seconds()),
		"cooldownSeconds", int(cfg.Cooldown.Seconds()), "socket", cfg.Socket)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	failing := false
	for {
		if err := m.cycle(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			if !failing {
				lg.write("error", "docker", "error", err.Error())
			}
			failing = true
		} else if failing {
			lg.write("info", "docker", "result", "reachable again")
			failing = false
		}
		if *once {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Interval):
			continue
		}
		break
	}
	lg.write("info", "stop")
}
