package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// Upstream's docker_network waits two seconds before it first looks at a
// network it has just created, read or removed (a state-change wait with a
// fixed delay; what it waits for, options of a network whose scope is
// "overlay", never comes: the daemon's scopes are local, global and swarm).
// Every container is created only once its networks are, so each cold deploy
// started its containers two seconds late, and each refresh and teardown
// took two seconds more. These functions create, read and remove a network
// with one call each, and the state gets the same fields.

// networkAPI is the part of the Docker client the network functions need;
// tests pass a fake.
type networkAPI interface {
	NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error)
	NetworkInspect(ctx context.Context, id string, options network.InspectOptions) (network.Inspect, error)
	NetworkRemove(ctx context.Context, id string) error
}

type networkConnectFunc func(ctx context.Context, meta interface{}, d *schema.ResourceData) (networkAPI, error)

// removeRetry is how often a network still in use (a container of the stack
// is being removed at the same moment) is tried again, and removeTimeout how
// long for in all: upstream's 30 seconds.
const (
	removeRetry   = 250 * time.Millisecond
	removeTimeout = 30 * time.Second
)

// readNetworksAtOnce replaces docker_network's create, read and delete.
func readNetworksAtOnce(p *schema.Provider, connect networkConnectFunc) {
	n, ok := p.ResourcesMap["docker_network"]
	if !ok {
		panic("upstream provider has no docker_network resource")
	}
	for _, field := range []string{"name", "labels", "driver", "options", "internal", "attachable", "ingress", "ipv6",
		"ipam_driver", "ipam_options", "ipam_config", "scope"} {
		if _, ok := n.Schema[field]; !ok {
			panic("upstream docker_network has no " + field + " field; recheck readNetworksAtOnce")
		}
	}
	read := func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		api, err := connect(ctx, meta, d)
		if err != nil {
			return diag.FromErr(err)
		}
		return diag.FromErr(readNetwork(ctx, api, d))
	}
	n.ReadContext = read
	n.CreateContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		api, err := connect(ctx, meta, d)
		if err != nil {
			return diag.FromErr(err)
		}
		created, err := api.NetworkCreate(ctx, d.Get("name").(string), networkCreateOptions(d))
		if err != nil {
			return diag.Errorf("Unable to create network: %s", err)
		}
		d.SetId(created.ID)
		return read(ctx, d, meta)
	}
	n.DeleteContext = func(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
		api, err := connect(ctx, meta, d)
		if err != nil {
			return diag.FromErr(err)
		}
		if err := removeNetwork(ctx, api, d.Id()); err != nil {
			return diag.FromErr(err)
		}
		d.SetId("")
		return nil
	}
}

// networkCreateOptions is what the configuration asks the daemon for; unset
// fields are left to the daemon's defaults, as upstream leaves them.
func networkCreateOptions(d *schema.ResourceData) network.CreateOptions {
	var o network.CreateOptions
	if v, ok := d.GetOk("labels"); ok {
		o.Labels = map[string]string{}
		for _, l := range v.(*schema.Set).List() {
			m := l.(map[string]interface{})
			o.Labels[m["label"].(string)] = m["value"].(string)
		}
	}
	if v, ok := d.GetOk("driver"); ok {
		o.Driver = v.(string)
	}
	if v, ok := d.GetOk("options"); ok {
		o.Options = stringMap(v)
	}
	o.Internal = d.Get("internal").(bool)
	o.Attachable = d.Get("attachable").(bool)
	o.Ingress = d.Get("ingress").(bool)
	if v, ok := d.GetOk("ipv6"); ok {
		ipv6 := v.(bool)
		o.EnableIPv6 = &ipv6
	}
	ipam := &network.IPAM{}
	set := false
	if v, ok := d.GetOk("ipam_driver"); ok {
		ipam.Driver, set = v.(string), true
	}
	if v, ok := d.GetOk("ipam_config"); ok {
		for _, c := range v.(*schema.Set).List() {
			m := c.(map[string]interface{})
			ipam.Config = append(ipam.Config, network.IPAMConfig{
				Subnet: str(m["subnet"]), IPRange: str(m["ip_range"]), Gateway: str(m["gateway"]), AuxAddress: stringMap(m["aux_address"]),
			})
		}
		set = true
	}
	if v, ok := d.GetOk("ipam_options"); ok {
		ipam.Options, set = stringMap(v), true
	}
	if set {
		o.IPAM = ipam
	}
	return o
}

// readNetwork records what the daemon holds. A network that is gone leaves
// the state (it is created again); any other failure is an error, so a
// connection lost during a refresh does not drop the network from the state
// (upstream's read dropped it on any error).
func readNetwork(ctx context.Context, api networkAPI, d *schema.ResourceData) error {
	got, err := api.NetworkInspect(ctx, d.Id(), network.InspectOptions{})
	if errdefs.IsNotFound(err) {
		d.SetId("")
		return nil
	}
	if err != nil {
		return fmt.Errorf("unable to inspect network %s: %w", d.Id(), err)
	}
	labels := make([]interface{}, 0, len(got.Labels))
	for k, v := range got.Labels {
		labels = append(labels, map[string]interface{}{"label": k, "value": v})
	}
	ipamConfig := make([]interface{}, 0, len(got.IPAM.Config))
	for _, c := range got.IPAM.Config {
		m := map[string]interface{}{}
		for k, v := range map[string]string{"subnet": c.Subnet, "ip_range": c.IPRange, "gateway": c.Gateway} {
			if v != "" {
				m[k] = v
			}
		}
		if len(c.AuxAddress) > 0 {
			aux := map[string]interface{}{}
			for k, v := range c.AuxAddress {
				aux[k] = v
			}
			m["aux_address"] = aux
		}
		ipamConfig = append(ipamConfig, m)
	}
	for field, value := range map[string]interface{}{
		"name": got.Name, "labels": labels, "driver": got.Driver, "internal": got.Internal, "attachable": got.Attachable,
		"ingress": got.Ingress, "ipv6": got.EnableIPv6, "ipam_driver": got.IPAM.Driver, "ipam_options": got.IPAM.Options,
		"scope": got.Scope, "options": got.Options, "ipam_config": ipamConfig,
	} {
		if err := d.Set(field, value); err != nil {
			return fmt.Errorf("network %s: %s: %w", d.Id(), field, err)
		}
	}
	return nil
}

// removeNetwork removes the network, trying again while a container that is
// being removed still holds an endpoint on it.
func removeNetwork(ctx context.Context, api networkAPI, id string) error {
	deadline := time.Now().Add(removeTimeout)
	for {
		err := api.NetworkRemove(ctx, id)
		if err == nil || errdefs.IsNotFound(err) {
			return nil
		}
		if !strings.Contains(err.Error(), "has active endpoints") || time.Now().After(deadline) {
			return fmt.Errorf("unable to remove network %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(removeRetry):
		}
	}
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

func stringMap(v interface{}) map[string]string {
	in, _ := v.(map[string]interface{})
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, x := range in {
		out[k] = fmt.Sprint(x)
	}
	return out
}
