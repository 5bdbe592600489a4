#!/usr/bin/env bash
# `npm run up`: deploys the `local` stack for real — to MLOPS_KUBE_CONTEXT when set, else to the
# local control plane (started here). See scripts/stack-env.sh for the knobs.
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"

if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
  say "deploying to kube context $MLOPS_KUBE_CONTEXT"
else
  "$SCRIPTS_DIR/control-plane.sh" start >&2
  KUBECONFIG="$("$SCRIPTS_DIR/control-plane.sh" kubeconfig)"
  export KUBECONFIG
  say "deploying to the local control plane (KUBECONFIG=$KUBECONFIG)"
fi

cd "$REPO_ROOT"
pulumi stack select --create "$STACK" --non-interactive >/dev/null
if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
  pulumi config set kubernetes:context "$MLOPS_KUBE_CONTEXT" --stack "$STACK"
else
  pulumi config rm kubernetes:context --stack "$STACK" >/dev/null 2>&1 || true
fi
pulumi up --yes --stack "$STACK" --non-interactive "$@"
say "outputs:"
pulumi stack output --stack "$STACK" --json
