// Package bridge maps the upstream Terraform docker provider onto the Pulumi
// "docker" package, so that the published @pulumi/docker SDK can drive it.
//
// The tokens and property names here must match the ones that SDK sends over
// the wire: a mismatch does not fail to compile anywhere, it fails at deploy
// time with "unknown resource type" or silently dropped inputs. The checks in
// bridge_test.go pin the ones our programs depend on.
package bridge

import (
	"context"
	"math/big"
	"runtime"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tfbridgetokens "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Version is the Pulumi package version this plugin answers to. The Node.js
// SDK asks the engine for the plugin at exactly its own package.json version,
// so this must follow the @pulumi/docker version pinned in package.json.
const Version = "5.2.0"

const (
	pkg = "docker"
	// Every docker resource lives in the package's single "index" module.
	mod = "index"
)

// resource builds tokens of the form docker:index/container:Container, the
// layout the SDK's resource classes register under.
func resource(name string) tokens.Type {
	return tokens.Type(pkg + ":" + mod + "/" + lowerFirst(name) + ":" + name)
}

// function builds data source tokens of the form docker:index/getNetwork:getNetwork.
func function(name string) tokens.ModuleMember {
	return tokens.ModuleMember(pkg + ":" + mod + "/" + name + ":" + name)
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+('a'-'A')) + s[1:]
}

// defaultHost mirrors the upstream default so that the Pulumi schema can mark
// `host` optional (Terraform marks it required and fills it from a default
// function, which the bridge cannot express in a schema).
func defaultHost(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
	if runtime.GOOS == "windows" {
		return "npipe:////./pipe/docker_engine", nil
	}
	return "unix:///var/run/docker.sock", nil
}

// Provider returns the bridge configuration. It is shared by the schema
// generator and the plugin, so both see exactly the same mapping.
func Provider() tfbridge.ProviderInfo {
	info := mapping()
	// Last: names every attribute as mapping left it (names.go).
	pinNames(&info)
	return info
}

// mapping is the package's mapping onto upstream, every name the bridge's own
// derivation except those given here.
func mapping() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(quietUpstream(extendUpstream(fixUpstream(shim.NewProvider())))),
		Name:        pkg,
		Version:     Version,
		Description: "A Pulumi package for interacting with Docker in Pulumi programs",
		Keywords:    []string{"pulumi", "docker"},
		License:     "Apache-2.0",
		GitHubOrg:   "kreuzwerker",
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {
				Default: &tfbridge.DefaultInfo{
					EnvVars:        []string{"DOCKER_HOST"},
					ComputeDefault: defaultHost,
				},
			},
			// The default naming would pluralise this set of blocks to
			// registryAuths; the SDK calls it registryAuth and always treats
			// it as a list, even if upstream ever limits it to one block.
			"registry_auth": {
				Name:        "registryAuth",
				MaxItemsOne: tfbridge.False(),
			},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok: resource("Container"),
				// An explicit container name and published host ports are
				// exclusive on a host, so a replacement must remove the old
				// container before starting the new one.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					// One argv, so the SDK keeps the singular name.
					"command": {Name: "command"},
					// The default pluralisation would give networksAdvanceds;
					// the SDK calls it networksAdvanced.
					"networks_advanced": {Name: "networksAdvanced"},
					// Added by this bridge (pids.go); the SDK's Container
					// class has no such input, so programs pass it through a
					// resource transform under exactly this name.
					"pids_limit": {Name: "pidsLimit"},
				},
			},
			"docker_image": {
				// The SDK's Image name is taken by its native build resource,
				// which this plugin does not provide; pulls are RemoteImage.
				Tok: resource("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{
					// This name is the image reference to pull, so it must
					// stay required: an explicit entry keeps SetAutonaming
					// from making it optional and inventing one.
					"name": {Name: "name"},
				},
			},
			// The SDK names this resource ServiceConfig, not Config.
			"docker_config":         {Tok: resource("ServiceConfig")},
			"docker_network":        {Tok: resource("Network")},
			"docker_volume":         {Tok: resource("Volume")},
			"docker_registry_image": {Tok: resource("RegistryImage")},
			"docker_plugin":         {Tok: resource("Plugin")},
			"docker_secret":         {Tok: resource("Secret")},
			"docker_service":        {Tok: resource("Service")},
			"docker_tag":            {Tok: resource("Tag")},
			"docker_buildx_builder": {Tok: resource("BuildxBuilder")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":                  {Tok: function("getNetwork")},
			"docker_plugin":                   {Tok: function("getPlugin")},
			"docker_image":                    {Tok: function("getRemoteImage")},
			"docker_registry_image":           {Tok: function("getRegistryImage")},
			"docker_registry_image_manifests": {Tok: function("getRegistryImageManifests")},
			"docker_logs":                     {Tok: function("getLogs")},
		},
	}

	// Anything upstream adds later still gets a standard token instead of
	// failing the schema generation.
	info.MustComputeTokens(tfbridgetokens.SingleModule("docker_", mod, tfbridgetokens.MakeStandard(pkg)))

	// The SDK leaves `name` optional on resources that Terraform requires it
	// for (containers, networks, volumes, ...): the plugin must then invent
	// one, as <resource name>-<random suffix>.
	info.SetAutonaming(255, "-")
	return info
}

// fixUpstream corrects docker_container behaviours of the upstream provider
// that make deploys either lie or never settle. None of the fixes is visible in
// the Pulumi schema, so the SDK's view of the package is unchanged. It panics
// if upstream reshapes these fields, which fails the schema generation step of
// the build rather than a deploy.
func fixUpstream(p *schema.Provider) *schema.Provider {
	c, ok := p.ResourcesMap["docker_container"]
	if !ok {
		panic("upstream provider has no docker_container resource")
	}

	// Upstream marks blocks such as healthcheck and mounts ForceNew, but the
	// plugin SDK honours a block's ForceNew only when the number of blocks
	// changes. Editing a field inside one (a healthcheck interval, a mount
	// target) planned an in-place update, which the container's update
	// function skips because Docker cannot change those on a container: the
	// state took the new value while the container kept the old one. The
	// update function handles only top-level fields (memory, cpu, restart...),
	// so everything nested in a ForceNew block must replace the container.
	forced := 0
	for _, field := range c.Schema {
		if block, ok := field.Elem.(*schema.Resource); ok && field.ForceNew {
			forced += forceNewNested(block)
		}
	}
	if forced == 0 {
		panic("upstream docker_container has no ForceNew blocks; recheck fixUpstream")
	}

	// The same goes for top-level fields that the update function never
	// applies: tmpfs and init cannot change on an existing container, and
	// cpu_period/cpu_quota are only sent at creation. Upstream never reads
	// tmpfs or the CPU period/quota back, so replacing on them cannot loop.
	for _, name := range []string{"tmpfs", "init", "cpu_period", "cpu_quota"} {
		field, ok := c.Schema[name]
		if !ok {
			panic("upstream docker_container has no " + name + " field")
		}
		field.ForceNew = true
	}

	// With only a memory limit set, Docker picks a swap limit itself (twice the
	// memory). Upstream reads it back into an optional, non-computed field, so
	// every later preview planned to remove it again. Leaving memorySwap out
	// (or 0, which Docker treats the same) now means "whatever Docker chose".
	swap, ok := c.Schema["memory_swap"]
	if !ok {
		panic("upstream docker_container has no memory_swap field")
	}
	swap.DiffSuppressFunc = func(_, _, planned string, _ *schema.ResourceData) bool {
		return planned == "" || planned == "0"
	}

	// Upstream reads values back in its own spelling: CPUs as "1.0" for a
	// configured "1", durations as Go prints them ("1m0s" for "60s"). Both
	// fields force replacement, so every preview replaced the container.
	// Compare what the values mean instead of how they are written.
	cpus, ok := c.Schema["cpus"]
	if !ok {
		panic("upstream docker_container has no cpus field")
	}
	cpus.DiffSuppressFunc = func(_, old, planned string, _ *schema.ResourceData) bool {
		return sameDecimal(old, planned)
	}
	hc, ok := c.Schema["healthcheck"].Elem.(*schema.Resource)
	if !ok {
		panic("upstream docker_container has no healthcheck block")
	}
	for _, name := range []string{"interval", "timeout", "start_period", "start_interval"} {
		field, ok := hc.Schema[name]
		if !ok {
			panic("upstream healthcheck has no " + name + " field")
		}
		field.DiffSuppressFunc = func(_, old, planned string, _ *schema.ResourceData) bool {
			return sameDuration(old, planned)
		}
	}
	return p
}

// upstreamClient reuses upstream's cached client for the provider's host.
func upstreamClient(ctx context.Context, meta interface{}, d *schema.ResourceData) (dockerAPI, error) {
	return shim.DockerClient(ctx, meta, d)
}

// upstreamNetworkClient is the same client, seen as what the network functions need.
func upstreamNetworkClient(ctx context.Context, meta interface{}, d *schema.ResourceData) (networkAPI, error) {
	return shim.DockerClient(ctx, meta, d)
}

// extendUpstream adds to the upstream docker_container what it lacks (the
// pids limit, pids.go, part of the Pulumi schema), and gives containers a
// quicker health wait (healthwait.go) and networks calls without a fixed
// delay (network.go); neither is visible in the schema. Last, every call that
// may reach the device first waits for the device's ssh master
// (mastergate.go).
func extendUpstream(p *schema.Provider) *schema.Provider {
	c, ok := p.ResourcesMap["docker_container"]
	if !ok {
		panic("upstream provider has no docker_container resource")
	}
	addPidsLimit(c, upstreamClient)
	waitHealthyByEvents(c, upstreamClient)
	readNetworksAtOnce(p, upstreamNetworkClient)
	gateDeviceCalls(p, shim.SSHOpts, upstreamClient)
	return p
}

// sameDecimal reports whether two decimal strings denote the same number.
func sameDecimal(a, b string) bool {
	x, okX := new(big.Rat).SetString(a)
	y, okY := new(big.Rat).SetString(b)
	return okX && okY && x.Cmp(y) == 0
}

// sameDuration reports whether two Go duration strings denote the same span;
// an empty string is the zero duration, as upstream treats it.
func sameDuration(a, b string) bool {
	parse := func(s string) (time.Duration, bool) {
		if s == "" {
			return 0, true
		}
		d, err := time.ParseDuration(s)
		return d, err == nil
	}
	x, okX := parse(a)
	y, okY := parse(b)
	return okX && okY && x == y
}

// forceNewNested marks every field inside block, at any depth, ForceNew and
// returns how many it visited.
func forceNewNested(block *schema.Resource) int {
	n := 0
	for _, field := range block.Schema {
		field.ForceNew = true
		n++
		if inner, ok := field.Elem.(*schema.Resource); ok {
			n += forceNewNested(inner)
		}
	}
	return n
}
