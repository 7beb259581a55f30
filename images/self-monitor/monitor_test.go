package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func ctr(id, name, stack string, extra map[string]string) Container {
	labels := map[string]string{StackLabel: stack}
	for k, v := range extra {
		labels[k] = v
	}
	return Container{ID: id, Name: name, Labels: labels, Status: "Up 5 minutes (unhealthy)"}
}

func reasons(ds []Decision) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		r := d.Reason
		if d.Restart {
			r = "RESTART:" + r
		}
		out[d.Container.Name] = r
	}
	return out
}

func TestDecideRestartsUnhealthyContainersOfTheStack(t *testing.T) {
	p := Policy{Stack: "local", Cooldown: 30 * time.Second}
	got := reasons(Decide(t0, p, []Container{
		ctr("aaa", "tv_api", "local", nil),
		ctr("bbb", "scene_scanner", "local", nil),
	}, map[string]time.Time{}, nil))
	want := map[string]string{"tv_api": "RESTART:unhealthy", "scene_scanner": "RESTART:unhealthy"}
	if len(got) != len(want) || got["tv_api"] != want["tv_api"] || got["scene_scanner"] != want["scene_scanner"] {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDecideSkips(t *testing.T) {
	p := Policy{Stack: "local", Cooldown: 30 * time.Second, SelfID: "selfselfself"}
	healthy := ctr("hhh", "healthy_one", "local", nil)
	healthy.Status = "Up 2 minutes (healthy)"
	got := reasons(Decide(t0, p, []Container{
		ctr("aaa", "opted_out", "local", map[string]string{OptOutLabel: "off"}),
		ctr("bbb", "opted_out_caps", "local", map[string]string{OptOutLabel: " OFF "}),
		ctr("ccc", "other", "prod", nil),
		ctr("ddd", "unlabelled", "", nil),
		ctr("selfselfself0123456789", "self_monitor", "local", nil),
		ctr("eee", "recently_restarted", "local", nil),
		ctr("fff", "restarted_long_ago", "local", nil),
		ctr("ggg", "opt_in_explicit", "local", map[string]string{OptOutLabel: "on"}),
		healthy,
	}, map[string]time.Time{"eee": t0.Add(-10 * time.Second), "fff": t0.Add(-30 * time.Second)}, nil))
	want := map[string]string{
		"opted_out":          ReasonOptedOut,
		"opted_out_caps":     ReasonOptedOut,
		"other":              ReasonOtherStack,
		"unlabelled":         ReasonOtherStack,
		"self_monitor":       ReasonSelf,
		"recently_restarted": ReasonCooldown,
		"restarted_long_ago": "RESTART:" + ReasonUnhealthy,
		"opt_in_explicit":    "RESTART:" + ReasonUnhealthy,
		"healthy_one":        ReasonNotUnhealth,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %q, want %q", name, got[name], w)
		}
	}
}

func TestDecideIsSortedByName(t *testing.T) {
	ds := Decide(t0, Policy{Stack: "s"}, []Container{ctr("2", "b", "s", nil), ctr("1", "a", "s", nil)}, nil, nil)
	if ds[0].Container.Name != "a" || ds[1].Container.Name != "b" {
		t.Fatalf("not sorted: %v", ds)
	}
}

func TestForget(t *testing.T) {
	last := map[string]time.Time{
		"gone-old":    t0.Add(-time.Minute),
		"gone-recent": t0.Add(-time.Second),
		"present-old": t0.Add(-time.Minute),
	}
	Forget(t0, 30*time.Second, last, map[string]bool{"present-old": true})
	if _, ok := last["gone-old"]; ok {
		t.Error("gone-old should be forgotten")
	}
	if _, ok := last["gone-recent"]; !ok {
		t.Error("gone-recent is still in its cooldown and must be kept")
	}
	if _, ok := last["present-old"]; !ok {
		t.Error("present-old must be kept")
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"SELF_MONITOR_STACK": "local"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != 30*time.Second || c.Cooldown != 30*time.Second || c.RestartTimeout != 10*time.Second || c.Socket != "/var/run/docker.sock" ||
		c.MaxRestarts != 3 || c.RestartWindow != time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = LoadConfig(env(map[string]string{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_INTERVAL_SECONDS": "5",
		"SELF_MONITOR_COOLDOWN_SECONDS": "12", "DOCKER_HOST": "unix:///tmp/d.sock"}))
	if err != nil || c.Interval != 5*time.Second || c.Cooldown != 12*time.Second || c.Socket != "/tmp/d.sock" {
		t.Fatalf("overrides: %+v %v", c, err)
	}
	c, err = LoadConfig(env(map[string]string{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_MAX_RESTARTS": "5", "SELF_MONITOR_RESTART_WINDOW_SECONDS": "600"}))
	if err != nil || c.MaxRestarts != 5 || c.RestartWindow != 10*time.Minute {
		t.Fatalf("restart cap: %+v %v", c, err)
	}
	c, err = LoadConfig(env(map[string]string{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_INTERVAL_SECONDS": "7"}))
	if err != nil || c.Cooldown != 7*time.Second {
		t.Fatalf("cooldown must default to the interval: %+v %v", c, err)
	}
	for _, bad := range []map[string]string{
		{},
		{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_INTERVAL_SECONDS": "0"},
		{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_INTERVAL_SECONDS": "abc"},
		{"SELF_MONITOR_STACK": "local", "DOCKER_HOST": "tcp://1.2.3.4:2375"},
		{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_MAX_RESTARTS": "0"},
		{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_MAX_RESTARTS": "many"},
		{"SELF_MONITOR_STACK": "local", "SELF_MONITOR_RESTART_WINDOW_SECONDS": "0"},
	} {
		if _, err := LoadConfig(env(bad)); err == nil {
			t.Errorf("LoadConfig(%v) should fail", bad)
		}
	}
}

func TestListQuery(t *testing.T) {
	q, err := url.ParseQuery(ListQuery("local"))
	if err != nil {
		t.Fatal(err)
	}
	var f map[string][]string
	if err := json.Unmarshal([]byte(q.Get("filters")), &f); err != nil {
		t.Fatal(err)
	}
	if len(f["label"]) != 1 || f["label"][0] != "edge-fleet.stack=local" || len(f["health"]) != 1 || f["health"][0] != "unhealthy" {
		t.Fatalf("filters: %v", f)
	}
}

// fakeDaemon serves the endpoints the monitor uses over a unix socket, as
// dockerd does. inspect holds what GET /containers/ID/json answers; the
// exited containers are those of list whose Status starts with "Exited".
type fakeDaemon struct {
	mu        sync.Mutex
	list      []apiContainer
	inspect   map[string]string
	restarted []string
	restartT  []string
	started   []string
	failOn    string
}

func (f *fakeDaemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/containers/json":
		var filters map[string][]string
		_ = json.Unmarshal([]byte(r.URL.Query().Get("filters")), &filters)
		out := []apiContainer{}
		for _, c := range f.list {
			wanted := strings.Contains(c.Status, "(unhealthy)")
			if len(filters["status"]) == 1 && filters["status"][0] == "exited" && r.URL.Query().Get("all") == "1" {
				wanted = strings.HasPrefix(c.Status, "Exited")
			}
			if filters["label"][0] == StackLabel+"="+c.Labels[StackLabel] && wanted {
				out = append(out, c)
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/json") && f.inspect[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/json")] != "":
		_, _ = w.Write([]byte(f.inspect[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/json")]))
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/start"):
		f.started = append(f.started, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/start"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/restart"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/containers/"), "/restart")
		if id == f.failOn {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"cannot restart"}`))
			return
		}
		f.restarted = append(f.restarted, id)
		f.restartT = append(f.restartT, r.URL.Query().Get("t"))
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func startFake(t *testing.T, f *fakeDaemon) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

func TestCycleRestartsOnceThenHonoursCooldown(t *testing.T) {
	f := &fakeDaemon{list: []apiContainer{
		{ID: "aaa111", Names: []string{"/tv_api"}, Labels: map[string]string{StackLabel: "local"}, Status: "Up 1 minute (unhealthy)"},
		{ID: "bbb222", Names: []string{"/grafana"}, Labels: map[string]string{StackLabel: "local", OptOutLabel: "off"}, Status: "Up 1 minute (unhealthy)"},
		{ID: "ccc333", Names: []string{"/other"}, Labels: map[string]string{StackLabel: "prod"}, Status: "Up 1 minute (unhealthy)"},
		{ID: "ddd444", Names: []string{"/playlist_manager"}, Labels: map[string]string{StackLabel: "local"}, Status: "Up 1 minute (healthy)"},
	}}
	sock := startFake(t, f)
	m := &monitor{cfg: Config{Stack: "local", Interval: time.Second, Cooldown: time.Hour, RestartTimeout: 10 * time.Second},
		docker: NewDockerClient(sock), log: &jsonLog{}, lastRestart: map[string]time.Time{}, lastSkip: map[string]string{}}
	for i := 0; i < 3; i++ {
		if err := m.cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.restarted) != 1 || f.restarted[0] != "aaa111" || f.restartT[0] != "10" {
		t.Fatalf("restarted %v (t=%v), want exactly aaa111 once with t=10", f.restarted, f.restartT)
	}
}

func TestCycleReportsUnreachableDaemon(t *testing.T) {
	m := &monitor{cfg: Config{Stack: "local"}, docker: NewDockerClient(filepath.Join(t.TempDir(), "none.sock")),
		log: &jsonLog{}, lastRestart: map[string]time.Time{}, lastSkip: map[string]string{}}
	if err := m.cycle(context.Background()); err == nil {
		t.Fatal("want an error for a missing socket")
	}
}

func TestRestartErrorCarriesDaemonMessage(t *testing.T) {
	f := &fakeDaemon{failOn: "zzz"}
	c := NewDockerClient(startFake(t, f))
	err := c.Restart(context.Background(), "zzz", time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot restart") {
		t.Fatalf("got %v", err)
	}
}
