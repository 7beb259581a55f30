package bridge

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// fakeNetworks stands in for the daemon's networks.
type fakeNetworks struct {
	mu         sync.Mutex
	created    map[string]network.CreateOptions // by ID
	inspectErr error
	busy       int // removes refused with "has active endpoints" before one succeeds
	removes    int
}

func (f *fakeNetworks) NetworkCreate(_ context.Context, name string, o network.CreateOptions) (network.CreateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = map[string]network.CreateOptions{"n-" + name: o}
	return network.CreateResponse{ID: "n-" + name}, nil
}

func (f *fakeNetworks) NetworkInspect(_ context.Context, id string, _ network.InspectOptions) (network.Inspect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inspectErr != nil {
		return network.Inspect{}, f.inspectErr
	}
	o, ok := f.created[id]
	if !ok {
		return network.Inspect{}, errdefs.NotFound(errors.New("network " + id + " not found"))
	}
	return network.Inspect{
		ID: id, Name: id[2:], Driver: o.Driver, Scope: "local", Labels: o.Labels, Options: map[string]string{},
		IPAM: network.IPAM{Driver: o.IPAM.Driver, Config: []network.IPAMConfig{{Subnet: "172.30.0.0/16", Gateway: "172.30.0.1"}}},
	}, nil
}

func (f *fakeNetworks) NetworkRemove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removes++
	if f.busy > 0 {
		f.busy--
		return errors.New("error while removing network: network " + id + " has active endpoints")
	}
	if _, ok := f.created[id]; !ok {
		return errdefs.NotFound(errors.New("network " + id + " not found"))
	}
	delete(f.created, id)
	return nil
}

// upstreamNetwork is upstream's docker_network with these functions in place.
func upstreamNetwork(f *fakeNetworks) *schema.Resource {
	p := shim.NewProvider()
	readNetworksAtOnce(p, func(context.Context, interface{}, *schema.ResourceData) (networkAPI, error) { return f, nil })
	return p.ResourcesMap["docker_network"]
}

func TestNetworkCreateSendsTheConfigAndRecordsTheDaemonsView(t *testing.T) {
	f := &fakeNetworks{}
	n := upstreamNetwork(f)
	d := schema.TestResourceDataRaw(t, n.Schema, map[string]interface{}{
		"name": "vv_backend", "driver": "bridge",
		"labels": []interface{}{map[string]interface{}{"label": "io.vv.stack", "value": "local"}},
	})
	if diags := n.CreateContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	sent := f.created["n-vv_backend"]
	if sent.Driver != "bridge" || sent.Labels["io.vv.stack"] != "local" || sent.IPAM == nil || sent.IPAM.Driver != "default" {
		t.Errorf("created with %+v", sent)
	}
	if d.Id() != "n-vv_backend" || d.Get("name") != "vv_backend" || d.Get("scope") != "local" || d.Get("driver") != "bridge" {
		t.Errorf("state id=%q name=%v scope=%v driver=%v", d.Id(), d.Get("name"), d.Get("scope"), d.Get("driver"))
	}
	if labels := d.Get("labels").(*schema.Set).List(); len(labels) != 1 || labels[0].(map[string]interface{})["value"] != "local" {
		t.Errorf("state labels %v", labels)
	}
	ipam := d.Get("ipam_config").(*schema.Set).List()
	if len(ipam) != 1 || ipam[0].(map[string]interface{})["subnet"] != "172.30.0.0/16" || ipam[0].(map[string]interface{})["gateway"] != "172.30.0.1" {
		t.Errorf("state ipam_config %v", ipam)
	}
}

func TestNetworkReadOfAGoneNetworkLeavesTheState(t *testing.T) {
	f := &fakeNetworks{created: map[string]network.CreateOptions{}}
	n := upstreamNetwork(f)
	d := schema.TestResourceDataRaw(t, n.Schema, map[string]interface{}{"name": "vv_backend"})
	d.SetId("n-vv_backend")
	if diags := n.ReadContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if d.Id() != "" {
		t.Errorf("a network the daemon no longer has is still in the state as %q", d.Id())
	}
}

func TestNetworkReadFailureKeepsTheNetwork(t *testing.T) {
	f := &fakeNetworks{inspectErr: errors.New("ssh: connection lost")}
	n := upstreamNetwork(f)
	d := schema.TestResourceDataRaw(t, n.Schema, map[string]interface{}{"name": "vv_backend"})
	d.SetId("n-vv_backend")
	if diags := n.ReadContext(context.Background(), d, nil); !diags.HasError() {
		t.Fatal("a failed inspect passed as a read")
	}
	if d.Id() != "n-vv_backend" {
		t.Error("a failed inspect dropped the network from the state")
	}
}

func TestNetworkDeleteWaitsForEndpointsToGo(t *testing.T) {
	f := &fakeNetworks{created: map[string]network.CreateOptions{"n-vv_backend": {}}, busy: 2}
	n := upstreamNetwork(f)
	d := schema.TestResourceDataRaw(t, n.Schema, map[string]interface{}{"name": "vv_backend"})
	d.SetId("n-vv_backend")
	if diags := n.DeleteContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
	if f.removes != 3 || len(f.created) != 0 || d.Id() != "" {
		t.Errorf("%d removes, networks left %v, id %q", f.removes, f.created, d.Id())
	}
	// Gone already: nothing to do, no error.
	d.SetId("n-vv_backend")
	if diags := n.DeleteContext(context.Background(), d, nil); diags.HasError() {
		t.Fatal(diags)
	}
}
