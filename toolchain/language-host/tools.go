//go:build tools

// Package tools pins the Node.js language host. It is taken from sdk/v3
// v3.68.0, the last release that kept the host inside the sdk/v3 module; later
// releases moved it to a module of its own that the module proxy does not
// serve. The host only starts `node` and relays gRPC, and the current CLI and
// Node SDK drive it unchanged (see README, "Toolchain").
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
