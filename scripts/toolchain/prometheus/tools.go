//go:build tools

// Package tools pins promtool and the Prometheus server built by scripts/toolchain/prometheus.sh.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
