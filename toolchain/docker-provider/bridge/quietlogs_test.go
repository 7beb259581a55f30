package bridge

import (
	"bytes"
	"context"
	"log"
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// What upstream's log.Printf calls look like once the log package has
// prefixed its date: the inspect document's lines follow the label.
func TestQuietWriterDropsDebugAndTraceMessagesWhole(t *testing.T) {
	var out bytes.Buffer
	w := quietWriter{next: &out}
	for _, m := range []string{
		"2026/11/27 05:00:00 [DEBUG] Docker container inspect from stateFunc: {\n\t\"Id\": \"abc\",\n\t\"State\": {}\n}\n",
		"2026/11/27 05:00:00 [TRACE] polling\n",
		"2026/11/27 05:00:00 [INFO] container created\n",
		"2026/11/27 05:00:00 [WARN] no healthcheck\n",
		"2026/11/27 05:00:00 [ERROR] pull failed\n",
		"plain line without a label\n",
		"2026/11/27 05:00:00 line one\n[DEBUG] is not this message's label\n",
	} {
		n, err := w.Write([]byte(m))
		if err != nil || n != len(m) {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", m, n, err, len(m))
		}
	}
	want := "2026/11/27 05:00:00 [INFO] container created\n" +
		"2026/11/27 05:00:00 [WARN] no healthcheck\n" +
		"2026/11/27 05:00:00 [ERROR] pull failed\n" +
		"plain line without a label\n" +
		"2026/11/27 05:00:00 line one\n[DEBUG] is not this message's label\n"
	if got := out.String(); got != want {
		t.Fatalf("passed on:\n%s\nwant:\n%s", got, want)
	}
}

// The bridge points the log package at a new writer before every call; the
// wrapped function must run with the filter in front of it, once.
func TestQuietUpstreamFiltersLogsDuringEveryResourceFunction(t *testing.T) {
	saved := log.Writer()
	defer log.SetOutput(saved)

	var out bytes.Buffer
	logs := func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
		log.Printf("[DEBUG] inspect:\n{\n}")
		log.Printf("[WARN] kept")
		return nil
	}
	r := &schema.Resource{CreateContext: logs, ReadContext: logs, UpdateContext: logs, DeleteContext: logs}
	unsetTFLog(t)
	quietUpstream(&schema.Provider{ResourcesMap: map[string]*schema.Resource{"docker_container": r}, DataSourcesMap: map[string]*schema.Resource{}})

	for name, f := range map[string]crudFunc{"create": r.CreateContext, "read": r.ReadContext, "update": r.UpdateContext, "delete": r.DeleteContext} {
		out.Reset()
		log.SetOutput(&out) // as the bridge does before each call
		f(context.Background(), nil, nil)
		f(context.Background(), nil, nil)
		if got := out.String(); bytes.Contains(out.Bytes(), []byte("DEBUG")) || bytes.Count(out.Bytes(), []byte("[WARN] kept")) != 2 {
			t.Fatalf("%s passed on %q; want the two warnings only", name, got)
		}
		if w, ok := log.Writer().(quietWriter); !ok || isQuiet(w.next) {
			t.Fatalf("%s: log writer %T; want one filter in front of the bridge's writer", name, log.Writer())
		}
	}
}

func TestQuietUpstreamLeavesEverythingWithTFLogSet(t *testing.T) {
	t.Setenv("TF_LOG", "DEBUG")
	read := func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil }
	r := &schema.Resource{ReadContext: read}
	quietUpstream(&schema.Provider{ResourcesMap: map[string]*schema.Resource{"docker_network": r}})
	saved := log.Writer()
	defer log.SetOutput(saved)
	var out bytes.Buffer
	log.SetOutput(&out)
	r.ReadContext(context.Background(), nil, nil)
	if isQuiet(log.Writer()) {
		t.Fatal("with TF_LOG set, the log package's writer was wrapped")
	}
}

// t.Setenv cannot unset; quietUpstream looks only at whether TF_LOG is set.
func unsetTFLog(t *testing.T) {
	t.Helper()
	t.Setenv("TF_LOG", "")
	if err := os.Unsetenv("TF_LOG"); err != nil {
		t.Fatal(err)
	}
}
