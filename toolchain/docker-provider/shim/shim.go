// Package shim re-exports the upstream Terraform docker provider, whose
// constructor lives in an internal package the bridge cannot import directly.
package shim

import (
	"context"
	"fmt"

	"github.com/docker/docker/client"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the SDKv2 half of the upstream provider. The upstream
// binary also muxes in a plugin-framework provider (compose, buildx actions,
// the docker_containers data source); none of those are part of the Pulumi
// docker package, so only the SDKv2 provider is bridged.
func NewProvider() *schema.Provider {
	// Upstream accepts a version string but does not use it for anything.
	return provider.New("dev")()
}

// DockerClient returns the Docker client upstream's own resources use for the
// provider configuration in meta. Upstream caches one client per host
// configuration, so this reuses its connection (and, for ssh:// hosts, its
// ssh command) instead of opening a second one.
func DockerClient(ctx context.Context, meta interface{}, d *schema.ResourceData) (*client.Client, error) {
	pc, ok := meta.(*provider.ProviderConfig)
	if !ok {
		return nil, fmt.Errorf("docker provider is not configured (meta is %T)", meta)
	}
	return pc.MakeClient(ctx, d)
}

// SSHOpts returns the ssh options of the provider configuration in meta (the
// provider's ssh_opts), nil if it has none.
func SSHOpts(meta interface{}) []string {
	pc, ok := meta.(*provider.ProviderConfig)
	if !ok || pc.DefaultConfig == nil {
		return nil
	}
	return pc.DefaultConfig.SSHOpts
}
