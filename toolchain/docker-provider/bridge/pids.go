package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/validation"
)

// pidsLimitField is the container's cgroup pids limit (`docker run
// --pids-limit`). Upstream has no such field, and its create function builds
// the HostConfig where nothing from outside can add to it, so the limit is
// applied with the Engine API's container update instead: the same call as
// `docker update --pids-limit`.
const pidsLimitField = "pids_limit"

// unlimitedPids is what the Engine API takes, on an update, for "no limit";
// 0 there means "leave as is".
const unlimitedPids int64 = -1

// eventGrace bounds how long a finished create waits for the event watcher.
// The daemon sent the create event before upstream's create could return, so
// this only matters when the event stream broke, and then the limit is
// applied by the container's ID instead.
const eventGrace = 10 * time.Second

// dockerAPI is the part of the Docker client the pids limit needs; tests
// pass a fake.
type dockerAPI interface {
	ContainerUpdate(ctx context.Context, id string, cfg container.UpdateConfig) (container.UpdateResponse, error)
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
	Events(ctx context.Context, opts events.ListOptions) (<-chan events.Message, <-chan error)
}

type connectFunc func(ctx context.Context, meta interface{}, d *schema.ResourceData) (dockerAPI, error)

// addPidsLimit adds pids_limit to the docker_container resource and wraps its
// create, read and update functions to apply and report it.
//
// A changed limit is applied in place, not by replacing the container: the
// daemon writes the new value into the running container's cgroup, so the
// service keeps running, as it does for a changed memory limit.
func addPidsLimit(c *schema.Resource, connect connectFunc) {
	if _, clash := c.Schema[pidsLimitField]; clash {
		panic("upstream docker_container now has " + pidsLimitField + "; drop addPidsLimit")
	}
	c.Schema[pidsLimitField] = &schema.Schema{
		Type:         schema.TypeInt,
		Optional:     true,
		ValidateFunc: validation.IntAtLeast(0),
		Description: "Most processes and threads the container may hold at once (its cgroup pids limit, " +
			"`docker run --pids-limit`); unset or 0 for no limit. A change is applied to the running container.",
	}

	create, read, update := c.CreateContext, c.ReadContext, c.UpdateContext
	c.CreateContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		limit := int64(d.Get(pidsLimitField).(int))
		if limit == 0 {
			return create(ctx, d, meta)
		}
		api, err := connect(ctx, meta, d)
		if err != nil {
			return diag.FromErr(fmt.Errorf("pids limit: %w", err))
		}
		applied, leave := applyOnCreate(ctx, api, d.Get("name").(string), limit)
		defer leave()
		diags := create(ctx, d, meta)
		if d.Id() == "" {
			// No container: nothing to limit, and upstream said why.
			return diags
		}
		select {
		case err = <-applied:
		case <-time.After(eventGrace):
			err = errors.New("no create event seen")
		}
		if err != nil {
			if err := setPidsLimit(ctx, api, d.Id(), limit); err != nil {
				return append(diags, diag.FromErr(err)...)
			}
		}
		// Upstream's create ends with its own read, which knows nothing of
		// the limit; record what the daemon holds now.
		return append(diags, readPidsLimit(ctx, api, d)...)
	}

	c.ReadContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		diags := read(ctx, d, meta)
		if diags.HasError() || d.Id() == "" {
			return diags
		}
		api, err := connect(ctx, meta, d)
		if err != nil {
			return append(diags, diag.FromErr(fmt.Errorf("pids limit: %w", err))...)
		}
		return append(diags, readPidsLimit(ctx, api, d)...)
	}

	c.UpdateContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		diags := update(ctx, d, meta)
		if diags.HasError() || !d.HasChange(pidsLimitField) {
			return diags
		}
		limit := int64(d.Get(pidsLimitField).(int))
		if limit == 0 {
			limit = unlimitedPids
		}
		api, err := connect(ctx, meta, d)
		if err != nil {
			return append(diags, diag.FromErr(fmt.Errorf("pids limit: %w", err))...)
		}
		return append(diags, diag.FromErr(setPidsLimit(ctx, api, d.Id(), limit))...)
	}
}

// applyOnCreate waits, on the device's shared event stream (eventhub.go),
// for the container named name to be created, before upstream creates it,
// and sets the limit as soon as the container exists: the same moment as or
// just after upstream starts it, and well before upstream's create returns.
// The result channel gets nil once the limit is set, or why it was not;
// leave must be called once the create is over.
func applyOnCreate(ctx context.Context, api dockerAPI, name string, limit int64) (<-chan error, func()) {
	done := make(chan error, 1)
	created, leave := hubOf(api).joinCreate(name)
	watchCtx, stop := context.WithCancel(ctx)
	go func() {
		select {
		case id := <-created:
			if id == "" {
				done <- errStreamBroke
				return
			}
			done <- setPidsLimit(ctx, api, id, limit)
		case <-watchCtx.Done():
		}
	}()
	return done, func() {
		stop()
		leave()
	}
}

func setPidsLimit(ctx context.Context, api dockerAPI, id string, limit int64) error {
	// Every other resource is left nil or zero, which the daemon reads as
	// "unchanged", so this never touches memory, CPUs or the restart policy.
	_, err := api.ContainerUpdate(ctx, id, container.UpdateConfig{Resources: container.Resources{PidsLimit: &limit}})
	if err != nil {
		return fmt.Errorf("unable to set the pids limit of container %s: %w", id, err)
	}
	return nil
}

// readPidsLimit records the daemon's limit, so a limit changed outside the
// program shows as drift on refresh. Docker reports "no limit" as nil, 0 or
// -1 depending on its version and how it was cleared; all are 0 here.
func readPidsLimit(ctx context.Context, api dockerAPI, d *schema.ResourceData) diag.Diagnostics {
	info, err := api.ContainerInspect(ctx, d.Id())
	if err != nil {
		return diag.FromErr(fmt.Errorf("unable to read the pids limit of container %s: %w", d.Id(), err))
	}
	var limit int64
	if info.ContainerJSONBase != nil && info.HostConfig != nil && info.HostConfig.PidsLimit != nil && *info.HostConfig.PidsLimit > 0 {
		limit = *info.HostConfig.PidsLimit
	}
	return diag.FromErr(d.Set(pidsLimitField, int(limit)))
}
