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
//	SELF_MONITOR_MAX_RESTARTS             restarts of one container within the window, then it is
//	                                      left alone until the window has passed (budget.go), default 3
//	SELF_MONITOR_RESTART_WINDOW_SECONDS   that window, default 3600
//	DOCKER_HOST                           unix:///path of the Engine API, default unix:///var/run/docker.sock
//
// After the daemon restarts, the monitor also starts the stack's on-failure
// containers the daemon stopped on its way down (reboot.go).
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
	MaxRestarts    int
	RestartWindow  time.Duration
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

func count(getenv func(string) string, name string, def int, min int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, fmt.Errorf("%s must be a whole number >= %d, got %q", name, min, v)
	}
	return n, nil
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
	if c.MaxRestarts, err = count(getenv, "SELF_MONITOR_MAX_RESTARTS", 3, 1); err != nil {
		return c, err
	}
	if c.RestartWindow, err = seconds(getenv, "SELF_MONITOR_RESTART_WINDOW_SECONDS", 3600, 1); err != nil {
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
	m := newMonitor(cfg, NewDockerClient(cfg.Socket), lg, host)
	lg.write("info", "start", "stack", cfg.Stack, "intervalSeconds", int(cfg.Interval.Seconds()),
		"cooldownSeconds", int(cfg.Cooldown.Seconds()), "maxRestarts", cfg.MaxRestarts,
		"restartWindowSeconds", int(cfg.RestartWindow.Seconds()), "socket", cfg.Socket)

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
