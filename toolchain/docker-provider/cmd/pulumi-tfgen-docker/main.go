// Command pulumi-tfgen-docker writes the Pulumi package schema derived from
// the bridge mapping. The build runs it once and embeds its output in the
// plugin, which serves it to `pulumi package get-schema` and to the engine.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"

	"edgefleet.local/toolchain/docker-provider/bridge"
)

func main() {
	out := flag.String("out", "schema.json", "file to write the schema to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-tfgen-docker:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	info := bridge.Provider()
	// Catches upstream schema mistakes here rather than at deploy time.
	if err := info.P.InternalValidate(); err != nil {
		return fmt.Errorf("upstream provider schema is invalid: %w", err)
	}
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{
		ProviderInfo:    info,
		DiagnosticsSink: sink,
		// Descriptions come from the Terraform schema itself: the upstream
		// Markdown docs would need a checkout of the upstream repository.
		XInMemoryDocs: true,
	})
	if err != nil {
		return err
	}
	spec := res.PackageSpec
	// tfgen leaves the version out so that a committed schema stays stable;
	// ours is generated per build, and the engine expects it filled in.
	spec.Version = bridge.Version
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
