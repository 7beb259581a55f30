package bridge

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/terraform"
)

// fakeDocker stands in for the daemon: it records updates and serves one
// event stream.
type fakeDocker struct {
	mu         sync.Mutex
	subscribed bool
	streams    int
	streamErr  error // Events fails at once with this, when set
	msgs       chan events.Message
	updates    []string
	updated    chan struct{}
	inspect    *int64
}

func newFake() *fakeDocker {
	return &fakeDocker{msgs: make(chan events.Message), updated: make(chan struct{}, 8)}
}

func (f *fakeDocker) ContainerUpdate(_ context.Context, id string, cfg container.UpdateConfig) (container.UpdateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cfg.Memory != 0 || cfg.CPUShares != 0 || cfg.RestartPolicy.Name != "" {
		return container.UpdateResponse{}, errors.New("the update touched more than the pids limit")
	}
	f.updates = append(f.updates, id+"="+strconv.FormatInt(*cfg.PidsLimit, 10))
	f.updated <- struct{}{}
	return container.UpdateResponse{}, nil
}

func (f *fakeDocker) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
		ID: id, HostConfig: &container.HostConfig{Resources: container.Resources{PidsLimit: f.inspect}},
	}}, nil
}

func (f *fakeDocker) Events(ctx context.Context, _ events.ListOptions) (<-chan events.Message, <-chan error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subscribed = true
	f.streams++
	errs := make(chan error, 1)
	if f.streamErr != nil {
		errs <- f.streamErr
	} else {
		go func() { <-ctx.Done(); errs <- ctx.Err() }()
	}
	return f.msgs, errs
}

func (f *fakeDocker) sawUpdates() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.updates...)
}

func created(id, name string) events.Message {
	return events.Message{Type: events.ContainerEventType, Action: events.ActionCreate,
		Actor: events.Actor{ID: id, Attributes: map[string]string{"name": name}}}
}

// fakeContainer builds a docker_container stand-in whose create behaves like
// upstream's: it creates, then waits for the container to turn healthy.
func fakeContainer(f *fakeDocker, create schema.CreateContextFunc) *schema.Resource {
	noop := func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil }
	c := &schema.Resource{
		Schema: map[string]*schema.Schema{
			"name":   {Type: schema.TypeString, Required: true, ForceNew: true},
			"memory": {Type: schema.TypeInt, Optional: true},
		},
		CreateContext: create, ReadContext: noop, UpdateContext: noop, DeleteContext: noop,
	}
	addPidsLimit(c, func(context.Context, interface{}, *schema.ResourceData) (dockerAPI, error) { return f, nil })
	return c
}

func TestPidsLimitLandsWhileUpstreamCreateStillWaits(t *testing.T) {
	f := newFake()
	c := fakeContainer(f, func(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
		f.mu.Lock()
		subscribed := f.subscribed
		f.mu.Unlock()
		if !subscribed {
			return diag.Errorf("container created before the create events were subscribed to")
		}
		d.SetId("c1")
		// A container whose name only starts with ours is not ours.
		f.msgs <- created("c0", "web-2")
		f.msgs <- created("c1", "web")
		f.inspect = ptr(256)
		select { // upstream's wait for healthy
		case <-f.updated:
			return nil
		case <-time.After(5 * time.Second):
			return diag.Errorf("the limit was not set while create was still waiting")
		}
	})
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", pidsLimitField: 256})
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if got := f.sawUpdates(); len(got) != 1 || got[0] != "c1=256" {
		t.Errorf("updates %v, want [c1=256]", got)
	}
	if got := d.Get(pidsLimitField); got != 256 {
		t.Errorf("state has pids_limit %v, want 256", got)
	}
}

func TestCreatesOfOneDaemonShareOneStream(t *testing.T) {
	// Eight containers created at once on a device must not hold eight ssh
	// sessions for their create events (eventhub.go).
	f := newFake()
	first, leaveFirst := applyOnCreate(context.Background(), f, "web", 128)
	second, leaveSecond := applyOnCreate(context.Background(), f, "db", 64)
	f.msgs <- created("c2", "db")
	f.msgs <- created("c1", "web")
	for _, ch := range []<-chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	leaveFirst()
	leaveSecond()
	got := f.sawUpdates()
	if len(got) != 2 || !((got[0] == "c2=64" && got[1] == "c1=128") || (got[0] == "c1=128" && got[1] == "c2=64")) {
		t.Errorf("updates %v, want c1=128 and c2=64", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streams != 1 {
		t.Errorf("%d event streams opened, want 1", f.streams)
	}
}

func TestPidsLimitSetByIDWhenTheEventStreamFails(t *testing.T) {
	f := newFake()
	f.streamErr = errors.New("stream refused")
	c := fakeContainer(f, func(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
		d.SetId("c1")
		return nil
	})
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web", pidsLimitField: 64})
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if got := f.sawUpdates(); len(got) != 1 || got[0] != "c1=64" {
		t.Errorf("updates %v, want [c1=64]", got)
	}
}

func TestNoPidsLimitNoDockerCalls(t *testing.T) {
	f := newFake()
	c := fakeContainer(f, func(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
		d.SetId("c1")
		return nil
	})
	d := schema.TestResourceDataRaw(t, c.Schema, map[string]interface{}{"name": "web"})
	if diags := c.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if f.subscribed || len(f.sawUpdates()) != 0 {
		t.Errorf("a container without a limit still reached the daemon: %v", f.sawUpdates())
	}
}

func TestReadReportsTheDaemonsLimit(t *testing.T) {
	for _, c := range []struct {
		daemon *int64
		want   int
	}{{ptr(512), 512}, {nil, 0}, {ptr(0), 0}, {ptr(-1), 0}} {
		f := newFake()
		f.inspect = c.daemon
		r := fakeContainer(f, nil)
		d := schema.TestResourceDataRaw(t, r.Schema, map[string]interface{}{"name": "web", pidsLimitField: 256})
		d.SetId("c1")
		if diags := r.ReadContext(context.Background(), d, nil); diags.HasError() {
			t.Fatal(diags)
		}
		if got := d.Get(pidsLimitField); got != c.want {
			t.Errorf("daemon %v: state has %v, want %v", c.daemon, got, c.want)
		}
	}
}

// plan diffs a container holding `had` against a configuration asking for
// `want` (nil: no pids_limit configured).
func plan(t *testing.T, r *schema.Resource, had string, want interface{}) (*terraform.InstanceState, *terraform.InstanceDiff) {
	t.Helper()
	state := &terraform.InstanceState{ID: "c1", Attributes: map[string]string{"id": "c1", "name": "web"}}
	if had != "" {
		state.Attributes[pidsLimitField] = had
	}
	cfg := map[string]interface{}{"name": "web"}
	if want != nil {
		cfg[pidsLimitField] = want
	}
	diff, err := r.SimpleDiff(context.Background(), state, terraform.NewResourceConfigRaw(cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	return state, diff
}

func TestChangedLimitIsAnInPlaceUpdate(t *testing.T) {
	for _, c := range []struct {
		had  string
		want interface{}
		sent string
	}{{"256", 512, "c1=512"}, {"0", 64, "c1=64"}, {"256", nil, "c1=-1"}} {
		f := newFake()
		r := fakeContainer(f, nil)
		state, diff := plan(t, r, c.had, c.want)
		if diff == nil || diff.Empty() || diff.RequiresNew() {
			t.Fatalf("%s -> %v: diff %v, want an in-place update", c.had, c.want, diff)
		}
		d, err := schema.InternalMap(r.Schema).Data(state, diff)
		if err != nil {
			t.Fatal(err)
		}
		if diags := r.UpdateContext(context.Background(), d, nil); diags.HasError() {
			t.Fatal(diags)
		}
		if got := f.sawUpdates(); len(got) != 1 || got[0] != c.sent {
			t.Errorf("%s -> %v: updates %v, want [%s]", c.had, c.want, got, c.sent)
		}
	}
}

func TestUnchangedLimitIsNoChange(t *testing.T) {
	r := fakeContainer(newFake(), nil)
	for _, c := range []struct {
		had  string
		want interface{}
	}{{"256", 256}, {"0", nil}, {"", nil}} {
		if _, diff := plan(t, r, c.had, c.want); diff != nil && !diff.Empty() {
			t.Errorf("%q -> %v: diff %v, want none", c.had, c.want, diff)
		}
	}
}

func ptr(n int64) *int64 { return &n }

func TestAStreamStoppedByItsLastWaiterTellsTheNextWaitersNothing(t *testing.T) {
	// The first stream ends when its only waiter leaves; a waiter that
	// joins right after is on a second stream, and must not take the first
	// one's end for a break of its own.
	f := newFake()
	h := hubOf(f)
	_, leaveFirst := h.joinCreate("web")
	leaveFirst()
	second, leaveSecond := h.joinCreate("db")
	defer leaveSecond()
	time.Sleep(100 * time.Millisecond)
	select {
	case id := <-second:
		t.Fatalf("the second waiter was told %q", id)
	default:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streams != 2 {
		t.Errorf("%d streams opened, want 2", f.streams)
	}
}
