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
	"runtime"

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
	info := tfbridge.ProviderInfo{
		P:           shimv2.NewProvider(shim.NewProvider()),
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
			// A set of blocks: the default naming would pluralise it to
			// registryAuths and, with no MaxItems, keep it a list; the SDK
			// exposes it as a list named registryAuth.
			"registry_auth": {
				Name:        "registryAuth",
				MaxItemsOne: tfbridge.False(),
			},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok: resource("Container"),
				// A container's name is unique on a host, so a replacement
				// must remove the old container before creating the new one.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					// One argv, so the SDK keeps the singular name.
					"command": {Name: "command"},
					// The default naming would treat "advanced" as a plural
					// noun; the SDK calls it networksAdvanced.
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				// The SDK's Image name is taken by its native build resource,
				// which this plugin does not provide; pulls are RemoteImage.
				Tok: resource("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{
					// Terraform calls the field "name"; keep it rather than
					// let autonaming treat it as an auto-generated name.
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
