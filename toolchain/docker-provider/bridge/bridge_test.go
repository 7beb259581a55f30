package bridge

// Run with the build's tags, or the docker compose code is compiled too:
//   go test -tags no_compose,grpcnotrace ./bridge

import (
	"io"
	"sort"
	"testing"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

func generate(t *testing.T) pschema.PackageSpec {
	t.Helper()
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{
		ProviderInfo: Provider(), DiagnosticsSink: sink, XInMemoryDocs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.PackageSpec
}

// The @pulumi/docker SDK registers resources and invokes functions under these
// tokens; any other spelling is an "unknown resource type" at deploy time.
func TestTokensMatchTheSDK(t *testing.T) {
	spec := generate(t)
	for _, tok := range []string{
		"docker:index/container:Container",
		"docker:index/network:Network",
		"docker:index/volume:Volume",
		"docker:index/remoteImage:RemoteImage",
		"docker:index/registryImage:RegistryImage",
		"docker:index/plugin:Plugin",
		"docker:index/secret:Secret",
		"docker:index/serviceConfig:ServiceConfig",
		"docker:index/service:Service",
		"docker:index/tag:Tag",
		"docker:index/buildxBuilder:BuildxBuilder",
	} {
		if _, ok := spec.Resources[tok]; !ok {
			t.Errorf("resource %s missing", tok)
		}
	}
	for _, tok := range []string{
		"docker:index/getNetwork:getNetwork",
		"docker:index/getPlugin:getPlugin",
		"docker:index/getRemoteImage:getRemoteImage",
		"docker:index/getRegistryImage:getRegistryImage",
		"docker:index/getRegistryImageManifests:getRegistryImageManifests",
		"docker:index/getLogs:getLogs",
	} {
		if _, ok := spec.Functions[tok]; !ok {
			t.Errorf("function %s missing", tok)
		}
	}
}

func requireProps(t *testing.T, what string, have map[string]pschema.PropertySpec, want ...string) {
	t.Helper()
	for _, name := range want {
		if _, ok := have[name]; !ok {
			var names []string
			for n := range have {
				names = append(names, n)
			}
			sort.Strings(names)
			t.Errorf("%s has no property %q; it has %v", what, name, names)
		}
	}
}

// The property names our programs send; the SDK passes them through verbatim,
// so a renamed one would be dropped without an error.
func TestPropertyNamesMatchTheSDK(t *testing.T) {
	spec := generate(t)
	requireProps(t, "provider config", spec.Config.Variables, "host", "sshOpts", "registryAuth", "disableDockerDaemonCheck")
	requireProps(t, "Container", spec.Resources["docker:index/container:Container"].InputProperties,
		"name", "image", "command", "entrypoints", "envs", "labels", "restart", "maxRetryCount",
		"memory", "memorySwap", "cpus", "cpuShares", "gpus", "runtime", "securityOpts",
		"destroyGraceSeconds", "wait", "waitTimeout", "healthcheck", "logDriver", "logOpts",
		"networksAdvanced", "networkMode", "volumes", "mounts", "uploads", "ports", "devices")
	requireProps(t, "Container healthcheck", spec.Types["docker:index/ContainerHealthcheck:ContainerHealthcheck"].Properties,
		"tests", "interval", "timeout", "startPeriod", "startInterval", "retries")
	requireProps(t, "Container networksAdvanced", spec.Types["docker:index/ContainerNetworksAdvanced:ContainerNetworksAdvanced"].Properties,
		"name", "aliases")
	requireProps(t, "RemoteImage", spec.Resources["docker:index/remoteImage:RemoteImage"].InputProperties,
		"name", "keepLocally", "platform")

	// The SDK leaves name optional on these, so the plugin must name them itself.
	for _, tok := range []string{
		"docker:index/container:Container",
		"docker:index/network:Network",
		"docker:index/volume:Volume",
	} {
		for _, req := range spec.Resources[tok].RequiredInputs {
			if req == "name" {
				t.Errorf("%s requires name; autonaming is not applied", tok)
			}
		}
	}
}

func TestUpstreamFixesApplied(t *testing.T) {
	c := fixUpstream(shim.NewProvider()).ResourcesMap["docker_container"]
	for _, block := range []string{"healthcheck", "mounts"} {
		for name, field := range c.Schema[block].Elem.(*schema.Resource).Schema {
			if !field.ForceNew {
				t.Errorf("%s.%s does not force a replacement", block, name)
			}
		}
	}
	for _, name := range []string{"tmpfs", "init", "cpu_period", "cpu_quota"} {
		if !c.Schema[name].ForceNew {
			t.Errorf("%s does not force a replacement", name)
		}
	}
	if c.Schema["memory_swap"].DiffSuppressFunc == nil {
		t.Error("memory_swap keeps its perpetual diff")
	}
}

func TestEquivalentSpellingsAreNoChange(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{{"1.0", "1", true}, {"0.25", "0.250", true}, {"1.5", "1.50", true}, {"1.5", "1.0", false}, {"10.", "10", true}} {
		if got := sameDecimal(c.a, c.b); got != c.same {
			t.Errorf("sameDecimal(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
	for _, c := range []struct {
		a, b string
		same bool
	}{{"1m0s", "60s", true}, {"2m0s", "120s", true}, {"0s", "", true}, {"30s", "1m0s", false}, {"bogus", "bogus", false}} {
		if got := sameDuration(c.a, c.b); got != c.same {
			t.Errorf("sameDuration(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}

// pids_limit is ours, not upstream's: it must reach the Pulumi schema under the
// name the program's transform sends, as an optional integer that a change
// updates in place.
func TestPidsLimitMapping(t *testing.T) {
	if got := Provider().Resources["docker_container"].Fields["pids_limit"]; got == nil || got.Name != "pidsLimit" {
		t.Errorf("pids_limit maps to %+v, want pidsLimit", got)
	}
	res := generate(t).Resources["docker:index/container:Container"]
	for what, props := range map[string]map[string]pschema.PropertySpec{"input": res.InputProperties, "output": res.Properties} {
		if p, ok := props["pidsLimit"]; !ok || p.Type != "integer" {
			t.Errorf("Container %s pidsLimit is %+v, want an integer", what, p)
		}
	}
	for _, req := range res.RequiredInputs {
		if req == "pidsLimit" {
			t.Error("pidsLimit is required; it must stay optional")
		}
	}
}

func TestPidsLimitAddedToUpstreamSchema(t *testing.T) {
	if _, ok := shim.NewProvider().ResourcesMap["docker_container"].Schema["pids_limit"]; ok {
		t.Fatal("upstream docker_container has pids_limit of its own now; drop ours")
	}
	p := extendUpstream(fixUpstream(shim.NewProvider()))
	if err := p.InternalValidate(); err != nil {
		t.Fatal(err)
	}
	c := p.ResourcesMap["docker_container"]
	f := c.Schema["pids_limit"]
	if f == nil || f.Type != schema.TypeInt || !f.Optional || f.Required || f.Computed || f.ForceNew {
		t.Fatalf("pids_limit is %+v, want an optional, non-computed int that does not force a replacement", f)
	}
	if c.CreateContext == nil || c.ReadContext == nil || c.UpdateContext == nil {
		t.Fatal("container functions lost in wrapping")
	}
	if f.ValidateFunc == nil {
		t.Error("pids_limit accepts negative values")
	}
}
