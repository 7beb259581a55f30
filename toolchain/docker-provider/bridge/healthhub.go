package bridge

import (
	"context"
	"sync"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// healthHub shares one event stream of a daemon among all the containers
// waiting to turn healthy on it. A stream is a long request, so one per
// waiting container would hold one ssh session each for as long as the
// slowest healthcheck takes, and sshd serves only ten sessions on the
// connection the program opened for the run (ssh/master.ts); the rest would
// each need a handshake of their own.
type healthHub struct {
	api dockerAPI

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{} // by container ID
	count   int
	stop    context.CancelFunc // ends the stream; nil while none is open
}

var (
	hubsMu sync.Mutex
	hubs   = map[dockerAPI]*healthHub{}
)

// hubOf returns the hub of a daemon client. Upstream keeps one client per
// provider configuration for the life of the plugin, so there is one hub per
// device.
func hubOf(api dockerAPI) *healthHub {
	hubsMu.Lock()
	defer hubsMu.Unlock()
	h, ok := hubs[api]
	if !ok {
		h = &healthHub{api: api, waiters: map[string]map[chan struct{}]struct{}{}}
		hubs[api] = h
	}
	return h
}

// join registers a waiter for container id. The channel gets a value when a
// health event for it arrives; it is never closed. The stream is open (the
// daemon has accepted the subscription) when join returns, unless it could
// not be opened, which the waiter's recheck covers. leave must be called once.
func (h *healthHub) join(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiters[id] == nil {
		h.waiters[id] = map[chan struct{}]struct{}{}
	}
	h.waiters[id][ch] = struct{}{}
	h.count++
	if h.stop == nil {
		h.open()
	}
	return ch, func() { h.leave(id, ch) }
}

func (h *healthHub) leave(id string, ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waiters[id], ch)
	if len(h.waiters[id]) == 0 {
		delete(h.waiters, id)
	}
	h.count--
	if h.count == 0 && h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// open starts the stream; h.mu is held. Events returns once the daemon has
// accepted the subscription.
func (h *healthHub) open() {
	ctx, stop := context.WithCancel(context.Background())
	h.stop = stop
	msgs, errs := h.api.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		// The daemon matches "health_status: healthy" and the others by
		// this prefix; the healthchecks' exec events stay on the device.
		filters.Arg("event", "health_status"),
	)})
	go h.forward(ctx, stop, msgs, errs)
}

func (h *healthHub) forward(ctx context.Context, stop context.CancelFunc, msgs <-chan events.Message, errs <-chan error) {
	for {
		select {
		case m := <-msgs:
			h.mu.Lock()
			for ch := range h.waiters[m.Actor.ID] {
				select {
				case ch <- struct{}{}:
				default: // one pending wake-up is enough: the waiter inspects
				}
			}
			h.mu.Unlock()
		case <-errs:
			// The stream broke (or was stopped): the next join opens a new
			// one, and those waiting now are left to their recheck.
			h.mu.Lock()
			if ctx.Err() == nil && h.stop != nil {
				h.stop = nil
			}
			h.mu.Unlock()
			stop()
			return
		case <-ctx.Done():
			return
		}
	}
}
