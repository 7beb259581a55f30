package bridge

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
)

func schemaJSON(t *testing.T, info tfbridge.ProviderInfo) string {
	t.Helper()
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{
		ProviderInfo: info, DiagnosticsSink: sink, XInMemoryDocs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(res.PackageSpec)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Pinning only writes down what the bridge derives: the package the SDK
// speaks to is the same, property for property.
func TestPinnedNamesLeaveTheSchemaAsItWas(t *testing.T) {
	if schemaJSON(t, Provider()) != schemaJSON(t, mapping()) {
		t.Fatal("the schema with pinned names differs from the one without")
	}
}

// Every attribute, nested blocks included, now names itself, and the
// bridge's reverse lookup finds the Terraform attribute from the name.
func TestEveryContainerAttributeIsNamed(t *testing.T) {
	info := Provider()
	fields := info.Resources["docker_container"].Fields
	sch := info.P.ResourcesMap().Get("docker_container").Schema()
	for tfName, want := range map[string]string{
		"networks_advanced": "networksAdvanced", // given by the mapping
		"env":               "envs",             // a set: derived, plural
		"pids_limit":        "pidsLimit",        // added by this bridge
		"memory_swap":       "memorySwap",
	} {
		if got := fields[tfName].Name; got != want {
			t.Errorf("%s is named %q, want %q", tfName, got, want)
		}
		if back := tfbridge.PulumiToTerraformName(want, sch, fields); back != tfName {
			t.Errorf("%s maps back to %q, want %q", want, back, tfName)
		}
	}
	hc := fields["healthcheck"].Elem.Fields
	if got := hc["start_interval"].Name; got != "startInterval" {
		t.Errorf("healthcheck.start_interval is named %q", got)
	}
	for _, path := range unnamed(sch, fields, "") {
		t.Errorf("%s has no pinned name", path)
	}
}

// unnamed lists the attributes below sch, at any depth, whose info has no name.
func unnamed(sch shim.SchemaMap, fields map[string]*tfbridge.SchemaInfo, prefix string) []string {
	var out []string
	sch.Range(func(key string, s shim.Schema) bool {
		fi := fields[key]
		if fi == nil || fi.Name == "" {
			out = append(out, prefix+key)
			return true
		}
		if block, ok := s.Elem().(shim.Resource); ok {
			var inner map[string]*tfbridge.SchemaInfo
			if fi.Elem != nil {
				inner = fi.Elem.Fields
			}
			out = append(out, unnamed(block.Schema(), inner, prefix+key+".")...)
		}
		return true
	})
	return out
}
