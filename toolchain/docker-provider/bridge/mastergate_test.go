package bridge

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

func noClient(context.Context, interface{}, *schema.ResourceData) (dockerAPI, error) { return nil, nil }

// gatedCreate returns a resource whose create, once gated, records when it ran.
func gatedCreate(t *testing.T, socket string) (*schema.Resource, *time.Time) {
	t.Helper()
	ran := new(time.Time)
	r := &schema.Resource{
		Schema: map[string]*schema.Schema{"name": {Type: schema.TypeString, Optional: true}},
		CreateContext: func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
			*ran = time.Now()
			return nil
		},
	}
	p := &schema.Provider{ResourcesMap: map[string]*schema.Resource{"docker_thing": r}}
	gateDeviceCalls(p, func(interface{}) []string {
		return []string{"-F", "none", "-o", "ControlMaster=no", "-o", "ControlPath=" + socket}
	}, noClient)
	return r, ran
}

// A short path: a Unix socket path must fit in sockaddr_un.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "mux")
}

func announce(t *testing.T, socket string) {
	t.Helper()
	if err := os.WriteFile(socket+masterOpeningSuffix, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, r *schema.Resource) {
	t.Helper()
	if diags := r.CreateContext(context.Background(), r.TestResourceData(), nil); diags.HasError() {
		t.Fatal(diags)
	}
}

func TestFirstDeviceCallWaitsForAnAnnouncedMaster(t *testing.T) {
	socket := socketPath(t)
	announce(t, socket)
	r, ran := gatedCreate(t, socket)
	var up time.Time
	go func() {
		time.Sleep(150 * time.Millisecond)
		l, err := net.Listen("unix", socket)
		if err != nil {
			t.Error(err)
			return
		}
		up = time.Now()
		t.Cleanup(func() { l.Close() })
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	create(t, r)
	if up.IsZero() || ran.Before(up) {
		t.Fatalf("create ran at %v, before the master was up (%v)", *ran, up)
	}
	// The wait is over for this socket: later calls go at once, even once
	// the announcement is gone and the master with it.
	os.Remove(socket + masterOpeningSuffix)
	start := time.Now()
	create(t, r)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("second call waited %v", d)
	}
}

func TestNoAnnouncedMasterNoWait(t *testing.T) {
	// No program opened one (a refresh without the program), or it failed.
	r, _ := gatedCreate(t, socketPath(t))
	start := time.Now()
	create(t, r)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("call without an announced master waited %v", d)
	}
}

func TestWaitEndsWhenTheAnnouncementIsTakenBack(t *testing.T) {
	// The master failed (an unreachable device): sessions then connect on
	// their own and report the device's error themselves.
	socket := socketPath(t)
	announce(t, socket)
	r, _ := gatedCreate(t, socket)
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.Remove(socket + masterOpeningSuffix)
	}()
	start := time.Now()
	create(t, r)
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Fatalf("waited %v; want until the announcement went, about 100 ms", d)
	}
}

func TestWaitIsBoundedForAnAnnouncementLeftBehind(t *testing.T) {
	saved := masterWaitLimit
	masterWaitLimit = 200 * time.Millisecond
	t.Cleanup(func() { masterWaitLimit = saved })
	socket := socketPath(t)
	announce(t, socket)
	r, _ := gatedCreate(t, socket)
	start := time.Now()
	create(t, r)
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Fatalf("waited %v; want the limit, 200 ms", d)
	}
}

func TestWithoutControlPathNoGate(t *testing.T) {
	if got := controlPathOf([]string{"-F", "none", "-o", "BatchMode=yes"}); got != "" {
		t.Fatalf("control path %q from options without one", got)
	}
	if got := controlPathOf([]string{"-o", "ControlMaster=no", "-o", "ControlPath=/k/s/d/mux"}); got != "/k/s/d/mux" {
		t.Fatalf("control path %q", got)
	}
}

func TestReadUpdateDeleteAndDataSourcesAreGatedToo(t *testing.T) {
	noop := func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil }
	r := &schema.Resource{ReadContext: noop, UpdateContext: noop, DeleteContext: noop}
	ds := &schema.Resource{ReadContext: noop}
	p := &schema.Provider{ResourcesMap: map[string]*schema.Resource{"docker_thing": r}, DataSourcesMap: map[string]*schema.Resource{"docker_look": ds}}
	// Each call gets a master of its own (the socket is its meta), announced
	// and taken back 100 ms later: a gated call waits that long.
	gateDeviceCalls(p, func(meta interface{}) []string { return []string{"-o", "ControlPath=" + meta.(string)} }, noClient)
	for name, f := range map[string]func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics{
		"read": r.ReadContext, "update": r.UpdateContext, "delete": r.DeleteContext, "data source read": ds.ReadContext,
	} {
		socket := socketPath(t)
		announce(t, socket)
		go func() {
			time.Sleep(100 * time.Millisecond)
			os.Remove(socket + masterOpeningSuffix)
		}()
		start := time.Now()
		f(context.Background(), nil, socket)
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("%s did not wait for the master (%v)", name, d)
		}
	}
}

func TestConcurrentFirstCallsMakeOneClientBeforeAnyGoesOn(t *testing.T) {
	socket := socketPath(t)
	var mu sync.Mutex
	var warmed time.Time
	warms := 0
	var ran []time.Time
	r := &schema.Resource{CreateContext: func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
		mu.Lock()
		ran = append(ran, time.Now())
		mu.Unlock()
		return nil
	}}
	p := &schema.Provider{ResourcesMap: map[string]*schema.Resource{"docker_thing": r}}
	gateDeviceCalls(p, func(interface{}) []string { return []string{"-o", "ControlPath=" + socket} },
		func(context.Context, interface{}, *schema.ResourceData) (dockerAPI, error) {
			time.Sleep(100 * time.Millisecond) // as a ping over a new connection
			mu.Lock()
			warms++
			warmed = time.Now()
			mu.Unlock()
			return nil, nil
		})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.CreateContext(context.Background(), nil, nil)
		}()
	}
	wg.Wait()
	if warms != 1 {
		t.Fatalf("client made %d times, want once", warms)
	}
	for _, at := range ran {
		if at.Before(warmed) {
			t.Fatalf("a call went on at %v, before the client was made (%v)", at, warmed)
		}
	}
}
