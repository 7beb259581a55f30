package bridge

import (
	"context"
	"errors"
	"sync"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// eventHub shares one event stream of a daemon among everything the bridge
// waits for on it: containers turning healthy (healthwait.go) and containers
// being created, whose pids limit is set the moment they exist (pids.go). A
// stream is a long request, so one per waiter would hold one ssh session
// each, and sshd serves only ten sessions on the connection the program
// opened for the run (ssh/master.ts): with a stream per created container
// and per health wait, a device's eight containers took nine of the ten,
// every other call of the deploy fell back to a connection and handshake of
// its own, and each create first waited for its stream to open. The
// healthchecks' exec events stay on the device.
type eventHub struct {
	api dockerAPI

	mu      sync.Mutex
	health  map[string]map[chan struct{}]struct{} // by container ID
	created map[string]map[chan string]struct{}   // by container name
	count   int
	stop    context.CancelFunc // ends the stream; nil while none is open
}

var (
	hubsMu sync.Mutex
	hubs   = map[dockerAPI]*eventHub{}
)

// errStreamBroke is what a create waiter learns when the stream ends first.
var errStreamBroke = errors.New("event stream closed")

// hubOf returns the hub of a daemon client. Upstream keeps one client per
// provider configuration for the life of the plugin, so there is one hub per
// device.
func hubOf(api dockerAPI) *eventHub {
	hubsMu.Lock()
	defer hubsMu.Unlock()
	h, ok := hubs[api]
	if !ok {
		h = &eventHub{api: api, health: map[string]map[chan struct{}]struct{}{}, created: map[string]map[chan string]struct{}{}}
		hubs[api] = h
	}
	return h
}

// joinHealth registers a waiter for the health of container id. The channel
// gets a value when a health event for it arrives; it is never closed. The
// stream is open (the daemon has accepted the subscription) when it returns,
// unless it could not be opened, which the waiter's recheck covers. leave
// must be called once.
func (h *eventHub) joinHealth(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	addWaiter(h.health, id, ch)
	h.join()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		removeWaiter(h.health, id, ch)
		h.leave()
	}
}

// joinCreate registers a waiter for the creation of a container named name.
// The channel gets the new container's ID, or "" if the stream ended first;
// as joinHealth, the stream is open when it returns.
func (h *eventHub) joinCreate(name string) (<-chan string, func()) {
	ch := make(chan string, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	addWaiter(h.created, name, ch)
	h.join()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		removeWaiter(h.created, name, ch)
		h.leave()
	}
}

// addWaiter and removeWaiter keep a set of waiters per key, with no empty
// sets left behind; h.mu is held.
func addWaiter[T any](sets map[string]map[chan T]struct{}, key string, ch chan T) {
	if sets[key] == nil {
		sets[key] = map[chan T]struct{}{}
	}
	sets[key][ch] = struct{}{}
}

func removeWaiter[T any](sets map[string]map[chan T]struct{}, key string, ch chan T) {
	delete(sets[key], ch)
	if len(sets[key]) == 0 {
		delete(sets, key)
	}
}

// join and leave count waiters; h.mu is held. The stream is open while any
// waits.
func (h *eventHub) join() {
	h.count++
	if h.stop == nil {
		h.open()
	}
}

func (h *eventHub) leave() {
	h.count--
	if h.count == 0 && h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// open starts the stream; h.mu is held. Events returns once the daemon has
// accepted the subscription.
func (h *eventHub) open() {
	ctx, stop := context.WithCancel(context.Background())
	h.stop = stop
	msgs, errs := h.api.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		// The daemon matches "health_status: healthy" and the others by
		// this prefix; values of one key are alternatives.
		filters.Arg("event", "health_status"),
		filters.Arg("event", string(events.ActionCreate)),
	)})
	go h.forward(ctx, stop, msgs, errs)
}

func (h *eventHub) forward(ctx context.Context, stop context.CancelFunc, msgs <-chan events.Message, errs <-chan error) {
	for {
		select {
		case m := <-msgs:
			h.mu.Lock()
			if m.Action == events.ActionCreate {
				// Only this exact name: the daemon's name filter, had there
				// been one, would also match IDs and prefixes.
				for ch := range h.created[m.Actor.Attributes["name"]] {
					offer(ch, m.Actor.ID)
				}
			} else {
				for ch := range h.health[m.Actor.ID] {
					offer(ch, struct{}{})
				}
			}
			h.mu.Unlock()
		case <-errs:
			h.mu.Lock()
			if ctx.Err() != nil {
				// Stopped by the last leave (under h.mu, so this is
				// certain): whoever waits now waits on a newer stream.
				h.mu.Unlock()
				return
			}
			// The stream broke: the next join opens a new one. Health
			// waiters are left to their recheck; create waiters are told,
			// and set the limit by the container's ID instead.
			h.stop = nil
			for _, waiters := range h.created {
				for ch := range waiters {
					offer(ch, "")
				}
			}
			h.mu.Unlock()
			stop()
			return
		case <-ctx.Done():
			return
		}
	}
}

// offer sends v unless the waiter has a value pending already: one is enough,
// the waiter looks at the daemon itself.
func offer[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}
