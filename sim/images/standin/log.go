// Logging: JSON lines on stdout, and warnings given once per cause.

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// logger writes one JSON object per line, as the real services do.
type logger struct {
	mu      sync.Mutex
	service string
	version string
}

func (l *logger) log(level, msg string, kv ...any) {
	rec := map[string]any{"ts": time.Now().UTC().Format(time.RFC3339Nano), "level": level, "service": l.service, "version": l.version, "msg": msg}
	for i := 0; i+1 < len(kv); i += 2 {
		rec[fmt.Sprint(kv[i])] = kv[i+1]
	}
	b, _ := json.Marshal(rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func (st *state) warnOnce(key, msg string, err error) {
	st.mu.Lock()
	seen := st.warned[key]
	st.warned[key] = true
	st.mu.Unlock()
	if !seen {
		st.log.log("warn", msg, "error", err.Error())
	}
}
