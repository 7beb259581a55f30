package bridge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// healthDaemon stands in for the daemon of one container whose health the
// test moves on; every change is announced on the event stream.
type healthDaemon struct {
	mu        sync.Mutex
	health    string // "" for a container without a healthcheck
	inspects  int
	streamErr error
	streams   int
	filters   filters.Args
	subscribe chan struct{} // closed on the first Events call
	msgs      chan events.Message
}

func newHealthDaemon(health string) *healthDaemon {
	return &healthDaemon{health: health, subscribe: make(chan struct{}), msgs: make(chan events.Message, 8)}
}

func (h *healthDaemon) ContainerUpdate(context.Context, string, container.UpdateConfig) (container.UpdateResponse, error) {
	return container.UpdateResponse{}, errors.New("the health wait must not update containers")
}

func (h *healthDaemon) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inspects++
	state := &container.State{Running: true}
	if h.health != "" {
		state.Health = &container.Health{Status: h.health}
	}
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, State: state}}, nil
}

func (h *healthDaemon) Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error) {
	errs := make(chan error, 1)
	if h.streamErr != nil {
		errs <- h.streamErr
		close(errs)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.streams++
	h.filters = opts.Filters
	if h.streams == 1 {
		close(h.subscribe)
	}
	return h.msgs, errs
}

// turn sets the health and announces it, as the daemon's health_status event.
func (h *healthDaemon) turn(status string) {
	h.mu.Lock()
	h.health = status
	h.mu.Unlock()
	h.msgs <- events.Message{Type: events.ContainerEventType, Action: events.Action("health_status: " + status), Actor: events.Actor{ID: "c1"}}
}

func (h *healthDaemon) inspected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inspects
}

// healthContainer is a docker_container stand-in with upstream's wait fields;
// its create records what `wait` it was given.
func healthContainer(h *healthDaemon, sawWait *bool) *schema.Resource {
	noop := func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil }
	c := &schema.Resource{
		Schema: map[string]*schema.Schema{
			"name":         {Type: schema.TypeString, Required: true, ForceNew: true},
			"start":        {Type: schema.TypeBool, Optional: true, Default: true},
			"wait":         {Type: schema.TypeBool, Optional: true, Default: false},
			"wait_timeout": {Type: schema.TypeInt, Optional: true, Default: 60},
		},
		CreateContext: func(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
			h.mu.Lock()
			*sawWait = d.Get("wait").(bool)
			h.mu.Unlock()
			d.SetId("c1")
			return nil
		},
		ReadContext: noop, UpdateContext: noop, DeleteContext: noop,
	}
	waitHealthyByEvents(c, func(context.Context, interface{}, *schema.ResourceData) (dockerAPI, error) { return h, nil })
	return c
}

func TestHealthWaitEndsOnTheHealthyEvent(t *testing.T) {
	h := newHealthDaemon("starting")
	var sawWait bool
	c := healthContainer(h, &sawWait)
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", "wait": true})
	go func() {
		for h.inspected() < 1 {
			time.Sleep(5 * time.Millisecond)
		}
		h.turn("healthy")
	}()
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if sawWait {
		t.Error("upstream's create was left its own wait")
	}
	if !d.Get("wait").(bool) {
		t.Error("the state lost wait = true")
	}
	// Once before the event (starting), once on it (healthy): no polling.
	if n := h.inspected(); n != 2 {
		t.Errorf("%d inspects, want 2", n)
	}
	// Only health changes travel: the healthchecks' exec events stay on the device.
	if !h.filters.ExactMatch("event", "health_status") || !h.filters.ExactMatch("type", "container") {
		t.Errorf("subscribed with filters %v, want container health_status events", h.filters)
	}
}

func TestHealthWaitsOfOneDaemonShareOneStream(t *testing.T) {
	h := newHealthDaemon("starting")
	var sawWait bool
	c := healthContainer(h, &sawWait)
	var wg sync.WaitGroup
	errs := make(chan diag.Diagnostics, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", "wait": true})
			errs <- c.CreateContext(context.Background(), d, nil)
		}()
	}
	<-h.subscribe
	// Another container's health is not ours: no waiter wakes for it.
	h.msgs <- events.Message{Action: "health_status: healthy", Actor: events.Actor{ID: "other"}}
	for h.inspected() < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	h.turn("healthy")
	wg.Wait()
	close(errs)
	for diags := range errs {
		if diags.HasError() {
			t.Fatal(diags)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams != 1 {
		t.Errorf("%d event streams for three waits on one daemon, want 1", h.streams)
	}
	if h.inspects != 6 {
		t.Errorf("%d inspects, want 6: each waiter once at first and once on its healthy event", h.inspects)
	}
}

func TestHealthWaitSeesAContainerAlreadyHealthy(t *testing.T) {
	h := newHealthDaemon("healthy")
	var sawWait bool
	c := healthContainer(h, &sawWait)
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", "wait": true})
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
}

func TestHealthWaitTimesOutWithUpstreamsMessage(t *testing.T) {
	h := newHealthDaemon("starting")
	var sawWait bool
	c := healthContainer(h, &sawWait)
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", "wait": true, "wait_timeout": 1})
	go func() {
		<-h.subscribe
		h.turn("unhealthy")
	}()
	diags := c.CreateContext(context.Background(), d, nil)
	if !diags.HasError() || diags[0].Summary != "container failed to be in healthy state" {
		t.Fatalf("diags %v, want upstream's timeout message", diags)
	}
	if d.Id() != "c1" {
		t.Error("a container that never turned healthy must stay in the state, as upstream leaves it")
	}
}

func TestHealthWaitWithoutHealthcheckFailsAsUpstream(t *testing.T) {
	h := newHealthDaemon("")
	var sawWait bool
	c := healthContainer(h, &sawWait)
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", "wait": true})
	diags := c.CreateContext(context.Background(), d, nil)
	if !diags.HasError() || diags[0].Summary != errNoHealthcheck.Error() {
		t.Fatalf("diags %v, want the missing-healthcheck message", diags)
	}
}

func TestHealthWaitRechecksWhenTheEventStreamBreaks(t *testing.T) {
	defer func(old time.Duration) { healthRecheck = old }(healthRecheck)
	healthRecheck = 50 * time.Millisecond
	h := newHealthDaemon("starting")
	h.streamErr = errors.New("ssh: connection lost")
	var sawWait bool
	c := healthContainer(h, &sawWait)
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", "wait": true})
	go func() {
		<-h.subscribe
		time.Sleep(200 * time.Millisecond)
		h.mu.Lock()
		h.health = "healthy" // no event: the stream is gone
		h.mu.Unlock()
	}()
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
}

func TestNoHealthWaitLeavesUpstreamsCreateAlone(t *testing.T) {
	h := newHealthDaemon("starting")
	sawWait := true
	c := healthContainer(h, &sawWait)
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web"})
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if sawWait || h.inspected() != 0 {
		t.Errorf("create without wait: upstream saw wait=%v, %d inspects", sawWait, h.inspected())
	}
}
