//go:build tools

// Package tools pins actionlint, the linter of the GitHub Actions workflows,
// so that it is built from the module proxy at the version named in go.mod.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
