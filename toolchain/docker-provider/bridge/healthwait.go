package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// Upstream's create waits for `wait` by inspecting the container once a
// second. A container that turns healthy just after an inspect is only seen a
// second later, so every health-gated create took half a second more on
// average, a whole second for a container with a one-second start_interval,
// and the seconds add up along an order of services. This wait is told by the
// daemon's events instead and sees the change within a round trip.

// Upstream's own words, kept: the rollout reports them as the cause of a failed release.
var (
	errNotHealthyInTime = errors.New("container failed to be in healthy state")
	errNoHealthcheck    = errors.New("you have supplied a 'wait' argument, but the container does not have a healthcheck defined. " +
		"Please remove the 'wait' argument or add a 'healthcheck' attribute")
)

// healthRecheck bounds how long the wait trusts the event stream alone: a
// broken stream (an ssh hiccup) then costs this much, never the whole timeout.
// A variable so that tests can shorten it.
var healthRecheck = 5 * time.Second

// waitHealthyByEvents replaces upstream's health wait in the container's
// create: it runs upstream's create with `wait` off, then waits itself, and
// puts `wait` back so the state holds what the program declared.
func waitHealthyByEvents(c *schema.Resource, connect connectFunc) {
	if _, ok := c.Schema["wait"]; !ok {
		panic("upstream docker_container has no wait field; recheck waitHealthyByEvents")
	}
	if _, ok := c.Schema["wait_timeout"]; !ok {
		panic("upstream docker_container has no wait_timeout field; recheck waitHealthyByEvents")
	}
	create := c.CreateContext
	c.CreateContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		if !d.Get("wait").(bool) || !d.Get("start").(bool) {
			return create(ctx, d, meta)
		}
		if err := d.Set("wait", false); err != nil {
			return diag.FromErr(err)
		}
		diags := create(ctx, d, meta)
		if err := d.Set("wait", true); err != nil {
			return append(diags, diag.FromErr(err)...)
		}
		if diags.HasError() || d.Id() == "" {
			return diags
		}
		api, err := connect(ctx, meta, d)
		if err != nil {
			return append(diags, diag.FromErr(fmt.Errorf("health wait: %w", err))...)
		}
		timeout := time.Duration(d.Get("wait_timeout").(int)) * time.Second
		return append(diags, diag.FromErr(waitHealthy(ctx, api, d.Id(), timeout))...)
	}
}

// waitHealthy returns nil once the container's health is "healthy", or an
// error at the timeout. It is subscribed to health changes before its first
// inspect, so a change between the two is not missed, and inspects again on
// each of the container's health events and every healthRecheck.
func waitHealthy(ctx context.Context, api dockerAPI, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	changed, leave := hubOf(api).joinHealth(id)
	defer leave()
	for {
		info, err := api.ContainerInspect(ctx, id)
		switch {
		case ctx.Err() != nil:
			return errNotHealthyInTime
		case err != nil:
			// As upstream: a failed inspect is not the end, the timeout is.
		case info.ContainerJSONBase == nil || info.State == nil || info.State.Health == nil:
			return errNoHealthcheck
		case info.State.Health.Status == container.Healthy:
			return nil
		}
		recheck := time.NewTimer(healthRecheck)
		select {
		case <-changed:
		case <-recheck.C:
		case <-ctx.Done():
			recheck.Stop()
			return errNotHealthyInTime
		}
		recheck.Stop()
	}
}
