// Package shim re-exports the upstream Terraform docker provider, whose
// constructor lives in an internal package the bridge cannot import directly.
package shim

import (
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
