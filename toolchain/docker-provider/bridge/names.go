package bridge

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
)

// The bridge's Diff maps every property path it looks at back to a
// Terraform attribute (tfbridge.PulumiToTerraformName), and does so by
// deriving the Pulumi name of each attribute of the object in turn until one
// matches, pluralization included, unless the attribute's SchemaInfo names
// it. A container has about 80 attributes, so one container's Diff took
// 20-28 ms of CPU, most of it in these derivations (a CPU profile of the
// provider during no-op runs), and the engine diffs the resources of a run
// one after another: on a 2-core machine the eight containers of a device
// held a no-op for about 0.2 s, and a 1,000-device preview for minutes.

// pinNames writes into info the Pulumi name of every attribute of every
// resource, at every depth: the name the bridge derives anyway, derived
// here once. Names already given are kept, so the package's schema is
// unchanged (names_test.go compares it). Call it after every other
// change to info.Resources.
func pinNames(info *tfbridge.ProviderInfo) {
	info.P.ResourcesMap().Range(func(tfName string, r shim.Resource) bool {
		ri := info.Resources[tfName]
		if ri == nil {
			ri = &tfbridge.ResourceInfo{}
			info.Resources[tfName] = ri
		}
		ri.Fields = pinFieldNames(r.Schema(), ri.Fields)
		return true
	})
}

// pinFieldNames names the attributes of one object and, below them, those of
// nested blocks, and returns the fields (a new map if fields was nil).
func pinFieldNames(sch shim.SchemaMap, fields map[string]*tfbridge.SchemaInfo) map[string]*tfbridge.SchemaInfo {
	if fields == nil {
		fields = map[string]*tfbridge.SchemaInfo{}
	}
	// All names are derived before any is written: a derivation looks at the
	// other attributes' infos (a plural that would clash with another name),
	// so each must see them as the bridge would.
	derived := map[string]string{}
	sch.Range(func(key string, _ shim.Schema) bool {
		derived[key] = tfbridge.TerraformToPulumiNameV2(key, sch, fields)
		return true
	})
	sch.Range(func(key string, s shim.Schema) bool {
		fi := fields[key]
		if fi == nil {
			fi = &tfbridge.SchemaInfo{}
			fields[key] = fi
		}
		if fi.Name == "" {
			fi.Name = derived[key]
		}
		if block, ok := s.Elem().(shim.Resource); ok {
			if fi.Elem == nil {
				fi.Elem = &tfbridge.SchemaInfo{}
			}
			fi.Elem.Fields = pinFieldNames(block.Schema(), fi.Elem.Fields)
		}
		return true
	})
	return fields
}
