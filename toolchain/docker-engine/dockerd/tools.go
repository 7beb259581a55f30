//go:build tools

// Package tools pins the Docker daemon's module (moby v2) for build.sh.
package tools

import (
	_ "github.com/moby/moby/v2/cmd/docker-proxy"
	_ "github.com/moby/moby/v2/cmd/dockerd"
)
