#!/usr/bin/env bash
# Smoke test of a deployed Azure stack through its Service, by `kubectl port-forward`: it needs no
# DNS record for the Gateway's host (docs/traffic.md).
# Needs kubectl and kubelogin on PATH (the setup action's `kubelogin: "true"`) and
# AAD_LOGIN_METHOD set (workloadidentity in the workflows, azurecli after `az login` on a laptop). The kubeconfig output holds no credential (it
# runs kubelogin), but stays in a private temp file, never in the log.
# Usage: .github/scripts/smoke-test-port-forward.sh <stack>
set -euo pipefail
stack="${1:?usage: smoke-test-port-forward.sh <stack>}"
here="$(cd "$(dirname "$0")" && pwd)"
port="${SMOKE_PORT:-18080}"

kubeconfig="$(mktemp)"
pf=""
cleanup() {
  if [ -n "$pf" ]; then kill "$pf" 2>/dev/null || true; fi
  rm -f "$kubeconfig"
}
trap cleanup EXIT
pulumi stack output kubeconfig --stack "$stack" --show-secrets > "$kubeconfig"
namespace="$(pulumi stack output namespace --stack "$stack")"

KUBECONFIG="$kubeconfig" kubectl --namespace "$namespace" port-forward service/inference "$port:80" \
  > /dev/null &
pf=$!
# smoke-test.sh retries readiness for ~5 minutes, which covers the port-forward starting.
"$here/smoke-test.sh" "http://127.0.0.1:$port"
