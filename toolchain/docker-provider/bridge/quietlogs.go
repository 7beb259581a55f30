package bridge

import (
	"bytes"
	"context"
	"io"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// Upstream logs every container it reads, creates or waits for with the
// standard library's log package at [DEBUG], the container's whole inspect
// document among it (about 150 indented lines). The bridge points that
// package at the engine before each call and sends every line to it as its
// own debug message, whatever TF_LOG says (pkg/tfbridge/log.go). A refresh
// and update of ten devices sent some 20,000 of them: each a gRPC call to the
// engine, an engine event, a line of JSON in the Automation API's event log
// parsed again by the rollout, none ever shown. quietUpstream drops upstream's
// [DEBUG] and [TRACE] messages before the bridge sees them; [INFO], [WARN]
// and [ERROR] and unlabelled output still go through. With TF_LOG set
// (someone debugging the provider) nothing is dropped.

// quietUpstream wraps every resource and data source function of p so that
// upstream's debug output is filtered while it runs.
func quietUpstream(p *schema.Provider) *schema.Provider {
	if _, set := os.LookupEnv("TF_LOG"); set {
		return p
	}
	for _, r := range p.ResourcesMap {
		quietResource(r)
	}
	for _, r := range p.DataSourcesMap {
		quietResource(r)
	}
	return p
}

func quietResource(r *schema.Resource) {
	r.CreateContext = quietCRUD(r.CreateContext)
	r.ReadContext = quietCRUD(r.ReadContext)
	r.UpdateContext = quietCRUD(r.UpdateContext)
	r.DeleteContext = quietCRUD(r.DeleteContext)
}

type crudFunc = func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics

func quietCRUD(f crudFunc) crudFunc {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		quietLog()
		return f(ctx, d, meta)
	}
}

// quietLog filters whatever the log package writes to now. The bridge sets a
// new writer before each call, so this runs at the start of each; a call
// that finds the filter already there (another call of the same provider set
// it) leaves it as it is.
func quietLog() {
	if w := log.Writer(); !isQuiet(w) {
		log.SetOutput(quietWriter{next: w})
	}
}

func isQuiet(w io.Writer) bool {
	_, ok := w.(quietWriter)
	return ok
}

// quietWriter passes on what the log package writes, except debug and trace
// messages. The log package writes each message, all its lines, in one Write
// with the label first after the date, so a message is judged as a whole.
type quietWriter struct{ next io.Writer }

func (w quietWriter) Write(p []byte) (int, error) {
	if isChatter(p) {
		return len(p), nil
	}
	return w.next.Write(p)
}

var chatterLabels = [][]byte{[]byte("[DEBUG]"), []byte("[TRACE]")}

func isChatter(p []byte) bool {
	start := bytes.IndexByte(p, '[')
	if start < 0 {
		return false
	}
	// Only a label before the message's first line ends counts.
	if nl := bytes.IndexByte(p, '\n'); nl >= 0 && nl < start {
		return false
	}
	for _, label := range chatterLabels {
		if bytes.HasPrefix(p[start:], label) {
			return true
		}
	}
	return false
}
