//go:build tools

// Package tools pins the docker compose v2 CLI as a Go module dependency, so
// that `npm run bench` can build it from the module proxy at the version named
// in go.mod (Debian 12 only packages compose 1.29, which has no `up --wait`).
package tools

import _ "github.com/docker/compose/v2/cmd"
