// Command pause is the sandbox ("pause") container of the local cluster's real nodes: it holds a
// pod's namespaces open, reaps orphaned children (it is PID 1 of the pod when the pod shares its
// process namespace), and exits cleanly on SIGTERM or SIGINT. No registry is reachable here, so
// scripts/node/images.sh builds it from this file and imports it into containerd as its
// sandbox_image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		// Reap every exited child without blocking.
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
