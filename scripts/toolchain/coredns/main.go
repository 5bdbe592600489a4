// Command coredns is CoreDNS with only the plugins the local cluster's DNS needs, built by
// scripts/toolchain/build.sh through the Go module proxy. CoreDNS documents this way of choosing
// plugins at compile time: set dnsserver.Directives (in the order of its plugin.cfg) and import
// each plugin's package, then run coremain.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The plugins, in the order CoreDNS's plugin.cfg runs them.
var directives = []string{"bind", "ready", "health", "errors", "log", "cache", "kubernetes"}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
