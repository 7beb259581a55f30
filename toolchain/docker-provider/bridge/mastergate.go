package bridge

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// The program opens one ssh master connection per device (ssh/master.ts)
// for the provider's sessions to share: a burst of a dozen separate
// handshakes runs into sshd's MaxStartups and fails at random. The master
// takes a handshake to come up, about 0.14 s on the project's machine, and
// the program used to hold the provider back until then, although most runs
// (a no-op, a preview, a one-service change) do not reach the device for a
// while or at all. The program now opens it in the background and announces
// it with a file beside the control socket; the provider waits for it
// before its first call to the device instead, and only then.

// masterOpeningSuffix names that file: ControlPath + this. It exists from
// before the provider starts until the master is up or has failed.
const masterOpeningSuffix = ".opening"

// Longest wait for a master that is announced but neither up nor failed: the
// program ends its own wait sooner (15 s after its turn), so this only
// matters when the program died in between.
var masterWaitLimit = 60 * time.Second

// How often a waiting call looks again.
var masterPoll = 10 * time.Millisecond

type sshOptsFunc func(meta interface{}) []string

// gateDeviceCalls makes every resource's and data source's functions that may
// reach the device wait for the device's master first. The first of them
// also makes upstream's Docker client for the device before the others go
// on (warm): upstream makes one on the first call that finds none, pinging
// the daemon twice, so a cold deploy's first burst (eight images and two
// networks at once) made ten clients and twenty round trips, each client
// with connections of its own, where one is kept.
func gateDeviceCalls(p *schema.Provider, optsOf sshOptsFunc, warm connectFunc) {
	gate := func(f func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics) func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
		if f == nil {
			return nil
		}
		return func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
			waitForDevice(ctx, controlPathOf(optsOf(meta)), func() {
				// An error is left to the calls themselves, which make
				// the client again and report it.
				_, _ = warm(context.WithoutCancel(ctx), meta, d)
			})
			return f(ctx, d, meta)
		}
	}
	for _, r := range p.ResourcesMap {
		r.CreateContext, r.ReadContext, r.UpdateContext, r.DeleteContext =
			gate(r.CreateContext), gate(r.ReadContext), gate(r.UpdateContext), gate(r.DeleteContext)
	}
	for _, r := range p.DataSourcesMap {
		r.ReadContext = gate(r.ReadContext)
	}
}

// controlPathOf finds the ControlPath among ssh options as the program
// writes them ("-o", "ControlPath=..."); "" when there is none (multiplexing
// off, or a host that is not ssh://).
func controlPathOf(opts []string) string {
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, "ControlPath="); ok {
			return v
		}
	}
	return ""
}

var (
	mastersMu sync.Mutex
	masters   = map[string]chan struct{}{} // closed once the wait for that socket is over
)

// waitForDevice returns once the master at socket accepts connections, or
// no master is announced (it failed, or no program opened one: a refresh
// without the program), or masterWaitLimit passed, and then warm has
// returned; or once ctx ended. Only the first caller per socket looks and
// warms; the others wait for it, and later calls return at once.
func waitForDevice(ctx context.Context, socket string, warm func()) {
	if socket == "" {
		return
	}
	mastersMu.Lock()
	done, seen := masters[socket]
	if !seen {
		done = make(chan struct{})
		masters[socket] = done
		go func() {
			defer close(done)
			lookForMaster(socket)
			warm()
		}()
	}
	mastersMu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func lookForMaster(socket string) {
	deadline := time.Now().Add(masterWaitLimit)
	for {
		if c, err := net.DialTimeout("unix", socket, time.Second); err == nil {
			// Up; the master drops a client that says nothing.
			c.Close()
			return
		}
		if _, err := os.Stat(socket + masterOpeningSuffix); err != nil || time.Now().After(deadline) {
			return
		}
		time.Sleep(masterPoll)
	}
}
