// The upstream Terraform provider keeps its schema constructor in an internal
// package. Go allows importing an internal package only from import paths under
// its parent, so this tiny module is named inside the upstream module's path
// and is wired in by a relative replace from the wrapper module.
module github.com/terraform-providers/terraform-provider-docker/shim

go 1.25.8

require (
	github.com/docker/docker v28.5.2+incompatible
	github.com/hashicorp/terraform-plugin-sdk/v2 v2.40.1
	github.com/terraform-providers/terraform-provider-docker v0.0.0
)
