#!/usr/bin/env bash
# `npm run up`: deploys the `local` stack for real — to MLOPS_KUBE_CONTEXT when set, else to the
# local cluster (started here, with real nodes unless MLOPS_NODES=kwok). On the local cluster it
# also builds service/Dockerfile (buildah, no registry) and loads the image into the nodes. It
# ends by checking the endpoint: readiness, then one inference, printed with its answer.
# See scripts/stack-env.sh for the knobs; extra arguments go to `npm run deploy -- up`.
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"

# The deploy's outputs file (global: the EXIT trap removes it).
outputs=""

main() {
  local image
  use_cluster
  image="$(stack_config_value "$REPO_ROOT" "$STACK" image.ref)"
  if [[ -z "${MLOPS_KUBE_CONTEXT:-}" && "${MLOPS_NODES:-real}" == real ]]; then
    log "building $image from service/Dockerfile (first build ~2-4 min; cached layers after that)"
    bash "$SCRIPTS_DIR/node/images.sh" service "$image"
    log "loading $image into the nodes"
    "$SCRIPTS_DIR/control-plane.sh" load "$image" >&2
  fi
  log "deploying stack $STACK"
  cd "$REPO_ROOT"
  # The Automation API with an inline program: no pulumi-language-nodejs plugin needed.
  outputs="$(mktemp)"
  trap 'rm -f "$outputs"' EXIT
  node "$REPO_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only "$REPO_ROOT/tools/deploy.ts" up --stack "$STACK" --outputs-file "$outputs" "$@"
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" || "${MLOPS_NODES:-real}" == real ]]; then
    bash "$SCRIPTS_DIR/endpoint.sh" "$(cat "$outputs")" "$STACK"
  else
    log "MLOPS_NODES=kwok: the nodes run no containers, so nothing answers; run the service itself with: npm run serve"
  fi
}

main "$@"
