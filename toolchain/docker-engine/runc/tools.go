//go:build tools

// Package tools pins runc for build.sh.
package tools

import _ "github.com/opencontainers/runc"
