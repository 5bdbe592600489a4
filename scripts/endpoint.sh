#!/usr/bin/env bash
# The last step of `npm run up` (run by scripts/up.sh, in its environment): checks the stack's
# endpoint the way a user would and prints it: readiness, then one OIP v2 inference (a known car,
# .github/smoke/), with the answer. Through the Gateway when it is Programmed with an address
# (the local cluster: Traefik on 127.0.0.1): the stack's endpointUrl, its host resolved to that
# address, HTTPS verified against the stack's CA (output caCertificate, written to
# <cache>/mlops-platform/<stack>-ca.pem). Otherwise (a cluster without a Gateway implementation
# for the class) the stack's nodePortUrl when it answers, else a `kubectl port-forward` to the
# Service.
#
# With key authentication (the default), it reads the stack's primary key (npm run keys), sends it
# as `Authorization: Bearer` through curl's standard input (never on a command line), waits for it
# to reach the pods, and prints how to call the endpoint with it, not the key itself.
#
# usage: scripts/endpoint.sh <stack outputs as JSON> [<stack>]
set -euo pipefail
# shellcheck source=scripts/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain/lib.sh"
LOG_TAG=endpoint

BODY="$REPO_ROOT/.github/smoke/mpg-regressor-infer.json"
outputs="" url="" key="" infer_url="" forward_pid=""
# curl's options for the endpoint: --resolve and --cacert through the Gateway.
CURL_OPTS=()
# What a user adds to curl to call it (printed).
CURL_HINT=""

# output <name>: a stack output, "" when absent.
output() { node -e 'const o = JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]] ?? ""))' "$outputs" "$1"; }
answers() { curl "${CURL_OPTS[@]}" -fsS --max-time 3 -o /dev/null "$1" 2>/dev/null; }

# gateway_address <namespace>: the Gateway's address once it is Programmed (up to 60 s), else "".
gateway_address() {
  local namespace="$1" programmed address
  kubectl -n "$namespace" get gateway inference >/dev/null 2>&1 || return 0
  for _ in $(seq 1 60); do
    programmed="$(kubectl -n "$namespace" get gateway inference -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status}' 2>/dev/null || true)"
    address="$(kubectl -n "$namespace" get gateway inference -o jsonpath='{.status.addresses[0].value}' 2>/dev/null || true)"
    if [[ "$programmed" == True && -n "$address" ]]; then
      echo "$address"
      return 0
    fi
    sleep 1
  done
}

# through_gateway <namespace> <stack>: url is the endpoint, reached through the Gateway; false
# when no Gateway of the stack is Programmed.
through_gateway() {
  local namespace="$1" stack="$2" endpoint address host port ca
  endpoint="$(output endpointUrl)"
  [[ "$endpoint" =~ ^(https?)://([^/:]+)/$ ]] || return 1
  address="$(gateway_address "$namespace")"
  if [[ -z "$address" ]]; then
    log "the Gateway of $namespace is not Programmed (no implementation for its GatewayClass?): checking the Service instead"
    return 1
  fi
  host="${BASH_REMATCH[2]}"
  port=80
  [[ "${BASH_REMATCH[1]}" == http ]] || port=443
  CURL_OPTS=(--resolve "$host:$port:$address")
  CURL_HINT="--resolve $host:$port:$address "
  ca="$(output caCertificate)"
  if [[ -n "$ca" ]]; then
    local file="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/$stack-ca.pem"
    mkdir -p "$(dirname "$file")"
    printf '%s\n' "$ca" >"$file"
    CURL_OPTS+=(--cacert "$file")
    CURL_HINT+="--cacert $file "
  fi
  url="$endpoint"
  log "through the Gateway: $url at $address${ca:+, HTTPS verified against the stack CA}"
}

# reach_service <namespace>: keeps url when it answers, else a port-forward to the Service.
reach_service() {
  local namespace="$1" pf_log port=""
  if [[ -n "$url" ]] && answers "${url}v2/health/live"; then return 0; fi
  pf_log="$(mktemp)"
  kubectl -n "$namespace" port-forward service/inference 0:80 >"$pf_log" 2>&1 &
  forward_pid=$!
  for _ in $(seq 1 50); do
    port="$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$pf_log" | head -n 1)"
    [[ -n "$port" ]] && break
    sleep 0.2
  done
  [[ -n "$port" ]] || die "kubectl port-forward to service/inference in $namespace failed: $(cat "$pf_log")"
  log "${url:+$url does not answer from here; }checking through: kubectl -n $namespace port-forward service/inference $port:80"
  url="http://127.0.0.1:$port/"
}

wait_ready() {
  local namespace="$1"
  for _ in $(seq 1 60); do
    answers "${url}v2/health/ready" && return 0
    sleep 1
  done
  die "${url}v2/health/ready did not answer 200 within 60 s (kubectl -n $namespace get pods; kubectl -n $namespace logs deploy/inference)"
}

# One inference; the key goes to curl on its standard input. Prints "<status> <body>".
infer() {
  local out status
  out="$(mktemp)"
  status="$(printf 'authorization: Bearer %s\n' "$key" | curl "${CURL_OPTS[@]}" -sS --max-time 10 -o "$out" -w '%{http_code}' \
    -H @- -H 'content-type: application/json' --data @"$BODY" "$infer_url")" || status=000
  printf '%s %s' "$status" "$(cat "$out")"
  rm -f "$out"
}

main() {
  outputs="${1:?usage: scripts/endpoint.sh <stack outputs as JSON> [<stack>]}"
  local stack="${2:-local}" namespace auth_mode reply status answer anonymous mpg
  command -v curl >/dev/null || die "curl is needed to check the endpoint"
  url="$(output nodePortUrl)"
  namespace="$(output namespace)"
  [[ -n "$namespace" ]] || die "the stack outputs name no namespace: $outputs"
  trap '[[ -z "$forward_pid" ]] || kill "$forward_pid" 2>/dev/null || true' EXIT
  through_gateway "$namespace" "$stack" || reach_service "$namespace"
  wait_ready "$namespace"
  infer_url="${url}v2/models/mpg-regressor/infer"
  auth_mode="$(output authMode)"
  case "$auth_mode" in
    key)
      key="$(node "$REPO_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only "$REPO_ROOT/tools/keys.ts" show --stack "$stack" --key primary)" ||
        die "cannot read the keys of stack $stack (npm run keys -- show --stack $stack)"
      ;;
    none | "") ;;
    *) log "auth.mode $auth_mode: the check below sends no token, so it expects 401" ;;
  esac
  # A new key reaches the pods' key files on the kubelet's next sync of the pod (seconds here).
  reply=""
  for _ in $(seq 1 120); do
    reply="$(infer)"
    [[ "$reply" == 503* ]] || break
    sleep 1
  done
  status="${reply%% *}"
  answer="${reply#* }"
  if [[ "$auth_mode" == entra ]]; then
    [[ "$status" == 401 ]] || die "without a token $infer_url answered $status, not 401: $answer"
    cat <<MSG

Serving at $url (Entra ID tokens required; docs/azure.md, Authentication)
  \$ curl -H "authorization: Bearer \$(az account get-access-token --resource <auth.audience> --query accessToken -o tsv)" \\
      -H 'content-type: application/json' -d @.github/smoke/mpg-regressor-infer.json ${CURL_HINT}${infer_url}
MSG
    return 0
  fi
  [[ "$status" == 200 ]] || die "the inference request to $infer_url answered $status: $answer"
  if [[ "$auth_mode" == key ]]; then
    anonymous="$(curl "${CURL_OPTS[@]}" -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'content-type: application/json' --data @"$BODY" "$infer_url")" || anonymous=000
    [[ "$anonymous" == 401 ]] || die "without a key $infer_url answered $anonymous, not 401"
  fi
  mpg="$(node -e 'const a = JSON.parse(process.argv[1]); const d = a.outputs && a.outputs[0] && a.outputs[0].data; if (!Array.isArray(d) || typeof d[0] !== "number") process.exit(1); process.stdout.write(d[0].toFixed(1))' "$answer")" ||
    die "unexpected inference answer: $answer"
  if [[ "$auth_mode" == key ]]; then
    cat <<MSG

Serving at $url (web form: $url, API docs: ${url}docs; key authentication)
  \$ KEY="\$(npm run --silent keys -- show --stack $stack --key primary)"
  \$ curl -H "authorization: Bearer \$KEY" -H 'content-type: application/json' -d @.github/smoke/mpg-regressor-infer.json ${CURL_HINT}${infer_url}
  $answer
  (a 1971 4-cylinder, 2,264 lb car with 90 hp: $mpg mpg predicted; without the key: 401)
MSG
  else
    cat <<MSG

Serving at $url (web form: $url, API docs: ${url}docs; auth.mode none: anyone can score)
  \$ curl -H 'content-type: application/json' -d @.github/smoke/mpg-regressor-infer.json ${CURL_HINT}${infer_url}
  $answer
  (a 1971 4-cylinder, 2,264 lb car with 90 hp: $mpg mpg predicted)
MSG
  fi
}

main "$@"
