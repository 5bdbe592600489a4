//go:build tools

// Package tools pins the binaries built by scripts/toolchain/build.sh.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
