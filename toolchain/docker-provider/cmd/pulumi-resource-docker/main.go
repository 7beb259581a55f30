// Command pulumi-resource-docker is the Pulumi resource plugin for the docker
// package, bridged from the upstream Terraform provider.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"edgefleet.local/toolchain/docker-provider/bridge"
)

// schema.json is not in the source tree: build.sh generates it with
// pulumi-tfgen-docker and supplies it to the compiler through -overlay, so
// the schema always matches the mapping compiled into this binary.
//
//go:embed schema.json
var schema []byte

func main() {
	bridge.ExitWithParent()
	tfbridge.Main("docker", bridge.Version, bridge.Provider(), schema)
}
