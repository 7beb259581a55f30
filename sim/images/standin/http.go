// HTTP endpoints of tv_api, prometheus and grafana: /status for all three,
// and each one's own health, readiness, metrics or playlist routes.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (st *state) serveHTTP(port int, version string) {
	mux := http.NewServeMux()
	status := func(w http.ResponseWriter, _ *http.Request) {
		body := map[string]any{"service": st.svc.Name, "version": version, "uptimeSeconds": int(time.Since(st.started).Seconds())}
		for _, dir := range st.svc.Reads {
			if n, newest, err := scan(dir); err == nil {
				body[filepath.Base(dir)] = map[string]any{"files": n, "newest": newest}
			}
		}
		code := http.StatusOK
		body["status"] = "ok"
		if unhealthy() {
			code = http.StatusServiceUnavailable
			body["status"] = "unhealthy"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
	plain := func(okText string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if unhealthy() {
				http.Error(w, "unhealthy", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, okText)
		}
	}
	mux.HandleFunc("/status", status)
	switch st.svc.Name {
	case "prometheus":
		mux.HandleFunc("/-/healthy", plain("Prometheus Server is Healthy."))
		mux.HandleFunc("/-/ready", plain("Prometheus Server is Ready."))
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
			st.mu.Lock()
			ticks := st.ticks
			st.mu.Unlock()
			fmt.Fprintf(w, "# TYPE standin_ticks_total counter\nstandin_ticks_total %d\n", ticks)
		})
	case "grafana":
		mux.HandleFunc("/api/health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if unhealthy() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(map[string]string{"database": "failing", "version": version})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"commit": "standin", "database": "ok", "version": version})
		})
	case "tv_api":
		mux.HandleFunc("/playlists", func(w http.ResponseWriter, _ *http.Request) {
			entries, err := os.ReadDir("/app/playlists")
			names := []string{}
			if err == nil {
				for _, e := range entries {
					if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
						names = append(names, e.Name())
					}
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"playlists": names})
		})
	}
	srv := &http.Server{Addr: fmt.Sprintf(":%d", port), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	st.log.log("info", "listening", "port", port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		st.log.log("error", "http server failed", "error", err.Error())
		os.Exit(1)
	}
}
