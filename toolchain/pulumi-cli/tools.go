//go:build tools

// Package tools pins the Pulumi CLI as a Go module dependency, so that it is
// built from the module proxy at the version named in go.mod.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
