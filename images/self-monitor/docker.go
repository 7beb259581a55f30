package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DockerClient speaks just enough of the Docker Engine API over its unix
// socket: list containers with filters, inspect, restart and start one. Unversioned paths are used
// so the daemon answers with its own API version (dockerd 20.10 speaks 1.41).
type DockerClient struct {
	http *http.Client
	base string
}

func NewDockerClient(socketPath string) *DockerClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns:    2,
		IdleConnTimeout: 90 * time.Second,
	}
	return &DockerClient{http: &http.Client{Transport: tr}, base: "http://docker"}
}

type apiContainer struct {
	ID     string            `json:"Id"`
	Names  []string          `json:"Names"`
	Labels map[string]string `json:"Labels"`
	Status string            `json:"Status"`
}

// ListQuery builds the query of GET /containers/json for one stack's
// unhealthy containers; running ones only, as a stopped container is not
// unhealthy and restarting it is its restart policy's business.
func ListQuery(stack string) string {
	filters := map[string][]string{
		"label":  {StackLabel + "=" + stack},
		"health": {"unhealthy"},
	}
	b, _ := json.Marshal(filters)
	return "filters=" + url.QueryEscape(string(b))
}

// ExitedQuery builds the query of GET /containers/json for one stack's exited
// containers (all=1: stopped ones are listed only when asked for).
func ExitedQuery(stack string) string {
	filters := map[string][]string{
		"label":  {StackLabel + "=" + stack},
		"status": {"exited"},
	}
	b, _ := json.Marshal(filters)
	return "all=1&filters=" + url.QueryEscape(string(b))
}

func (c *DockerClient) UnhealthyContainers(ctx context.Context, stack string) ([]Container, error) {
	return c.list(ctx, ListQuery(stack))
}

func (c *DockerClient) ExitedContainers(ctx context.Context, stack string) ([]Container, error) {
	return c.list(ctx, ExitedQuery(stack))
}

func (c *DockerClient) list(ctx context.Context, query string) ([]Container, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/containers/json?"+query, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, apiError("list containers", resp)
	}
	var raw []apiContainer
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]Container, 0, len(raw))
	for _, r := range raw {
		name := r.ID
		if len(r.Names) > 0 {
			name = strings.TrimPrefix(r.Names[0], "/")
		}
		out = append(out, Container{ID: r.ID, Name: name, Labels: r.Labels, Status: r.Status})
	}
	return out, nil
}

// Restart asks the daemon to stop (SIGTERM, then SIGKILL after timeout) and
// start the container again; the call returns when it is running again.
func (c *DockerClient) Restart(ctx context.Context, id string, timeout time.Duration) error {
	u := fmt.Sprintf("%s/containers/%s/restart?t=%d", c.base, url.PathEscape(id), int(timeout.Seconds()))
	return c.post(ctx, "restart", u, http.StatusNoContent, http.StatusOK)
}

// post sends a body-less POST and accepts only the given status codes.
func (c *DockerClient) post(ctx context.Context, op, u string, ok ...int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	for _, code := range ok {
		if resp.StatusCode == code {
			return nil
		}
	}
	return apiError(op, resp)
}

type apiInspect struct {
	ID    string `json:"Id"`
	Name  string `json:"Name"`
	State struct {
		ExitCode   int    `json:"ExitCode"`
		OOMKilled  bool   `json:"OOMKilled"`
		StartedAt  string `json:"StartedAt"`
		FinishedAt string `json:"FinishedAt"`
	} `json:"State"`
	Config struct {
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	HostConfig struct {
		RestartPolicy struct {
			Name string `json:"Name"`
		} `json:"RestartPolicy"`
	} `json:"HostConfig"`
}

// Inspect reads what ToStart needs of one container (an ID or a unique prefix).
// Docker writes "0001-01-01T00:00:00Z" for a time that never happened, which
// parses to the zero time.
func (c *DockerClient) Inspect(ctx context.Context, id string) (Exited, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/containers/"+url.PathEscape(id)+"/json", nil)
	if err != nil {
		return Exited{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Exited{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Exited{}, apiError("inspect", resp)
	}
	var r apiInspect
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return Exited{}, fmt.Errorf("inspect: %w", err)
	}
	started, err1 := time.Parse(time.RFC3339Nano, r.State.StartedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, r.State.FinishedAt)
	if err1 != nil || err2 != nil {
		return Exited{}, fmt.Errorf("inspect %s: unreadable times %q, %q", id, r.State.StartedAt, r.State.FinishedAt)
	}
	return Exited{
		Container:     Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), Labels: r.Config.Labels},
		RestartPolicy: r.HostConfig.RestartPolicy.Name,
		ExitCode:      r.State.ExitCode,
		OOMKilled:     r.State.OOMKilled,
		Run:           Run{StartedAt: started, FinishedAt: finished},
	}, nil
}

// Start starts a stopped container; 304 means it already runs.
func (c *DockerClient) Start(ctx context.Context, id string) error {
	return c.post(ctx, "start", c.base+"/containers/"+url.PathEscape(id)+"/start", http.StatusNoContent, http.StatusNotModified)
}

func apiError(op string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		return fmt.Errorf("%s: %s (HTTP %d)", op, m.Message, resp.StatusCode)
	}
	return fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, strings.TrimSpace(string(b)))
}
