// Command netpol enforces the local cluster's NetworkPolicies with SIG Network's
// kube-network-policies controller (sigs.k8s.io/kube-network-policies/pkg/networkpolicy), built
// by scripts/toolchain/build.sh through the Go module proxy. Its own command runs in a pod with
// the in-cluster config and one node per host; the local cluster runs two nodes on one host, so
// this runs it as a host process with a kubeconfig, for every pod of the cluster.
//
// The controller decides each new connection's first packet from an NFQUEUE (accept or drop by
// the NetworkPolicies of its source and destination pods). Its own diversion rules use the
// nftables `queue` expression, which kernels built without CONFIG_NFT_QUEUE refuse; the node
// script (scripts/control-plane/node.sh) diverts with the iptables NFQUEUE target instead, and
// this command checks, before it starts, that the kernel's nfnetlink queue exists.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster (required)")
	queueID := flag.Int("nfqueue-id", 100, "NFQUEUE the node script diverts new connections to")
	nodeName := flag.String("node-name", "", "a node of the cluster (required; names the controller's pod set, unused with iptables diversion)")
	metrics := flag.String("metrics-bind-address", "127.0.0.1:19080", "address of the /metrics endpoint")
	klog.InitFlags(nil)
	flag.Parse()
	if err := run(*kubeconfig, *nodeName, *queueID, *metrics); err != nil {
		fmt.Fprintf(os.Stderr, "netpol: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, nodeName string, queueID int, metrics string) error {
	if kubeconfig == "" || nodeName == "" {
		return fmt.Errorf("--kubeconfig and --node-name are required")
	}
	if queueID < 1 || queueID > 65535 {
		return fmt.Errorf("--nfqueue-id: got %d; allowed: 1 to 65535", queueID)
	}
	if _, err := os.Stat("/proc/net/netfilter/nfnetlink_queue"); err != nil {
		return fmt.Errorf("the kernel has no nfnetlink queue (CONFIG_NETFILTER_NETLINK_QUEUE): %v", err)
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %v", kubeconfig, err)
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	factory := informers.NewSharedInformerFactory(clientset, 0)
	controller, err := networkpolicy.NewController(
		clientset,
		factory.Networking().V1().NetworkPolicies(),
		factory.Core().V1().Namespaces(),
		factory.Core().V1().Pods(),
		nil, nil, nil, nil,
		networkpolicy.Config{
			QueueID:     queueID,
			NodeName:    nodeName,
			NFTableName: "mlops-netpol",
			// Kernels from 6.12 have the conntrack fix this works around.
			NetfilterBug1766Fix: false,
			// Fail closed: a packet nobody decides is dropped (the kernel's default for a queue).
			FailOpen: false,
		},
	)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	go func() {
		if err := http.ListenAndServe(metrics, mux); err != nil {
			klog.ErrorS(err, "metrics endpoint")
		}
	}()
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx) }()
	factory.Start(ctx.Done())
	select {
	case <-ctx.Done():
		<-done
		return nil
	case err := <-done:
		return err
	}
}
