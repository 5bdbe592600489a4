#!/usr/bin/env bash
# `npm run down`: destroys the `local` stack and stops the local control plane (when it was used).
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"

if [[ -z "${MLOPS_KUBE_CONTEXT:-}" ]]; then
  "$SCRIPTS_DIR/control-plane.sh" start >&2
  KUBECONFIG="$("$SCRIPTS_DIR/control-plane.sh" kubeconfig)"
  export KUBECONFIG
fi

cd "$REPO_ROOT"
if pulumi stack select "$STACK" --non-interactive >/dev/null 2>&1; then
  pulumi destroy --yes --stack "$STACK" --non-interactive "$@"
else
  say "no stack $STACK in $PULUMI_BACKEND_URL: nothing to destroy"
fi
[[ -n "${MLOPS_KUBE_CONTEXT:-}" ]] || "$SCRIPTS_DIR/control-plane.sh" stop >&2
