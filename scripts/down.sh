#!/usr/bin/env bash
# `npm run down`: destroys the `local` stack and stops the local control plane (when it was used).
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"

main() {
  use_cluster

  cd "$REPO_ROOT"
  if pulumi stack select "$STACK" --non-interactive >/dev/null 2>&1; then
    node "$REPO_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only "$REPO_ROOT/tools/deploy.ts" destroy --stack "$STACK" "$@"
  else
    log "no stack $STACK in $PULUMI_BACKEND_URL: nothing to destroy"
  fi
  [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]] || "$SCRIPTS_DIR/control-plane.sh" stop >&2
}

main "$@"
