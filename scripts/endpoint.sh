#!/usr/bin/env bash
# The last step of `npm run up` (run by scripts/up.sh, in its environment): checks the stack's
# endpoint the way a user would and prints it: readiness, then one OIP v2 inference (a known car,
# .github/smoke/), with the answer. Uses the stack's nodePortUrl (the local cluster: kube-proxy
# on 127.0.0.1) when it answers; on any other cluster (kind...) a `kubectl port-forward` to the
# Service for the check.
#
# usage: scripts/endpoint.sh <stack outputs as JSON>
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
fail() { printf '[endpoint] ERROR: %s\n' "$*" >&2; exit 1; }
say() { printf '[endpoint] %s\n' "$*" >&2; }

outputs="${1:?usage: scripts/endpoint.sh <stack outputs as JSON>}"
command -v curl >/dev/null || fail "curl is needed to check the endpoint"
output() { node -e 'const o = JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]] ?? ""))' "$outputs" "$1"; }
url="$(output nodePortUrl)"
namespace="$(output namespace)"
[[ -n "$namespace" ]] || fail "the stack outputs name no namespace: $outputs"
forward_pid=""
trap '[[ -z "$forward_pid" ]] || kill "$forward_pid" 2>/dev/null || true' EXIT

answers() { curl -fsS --max-time 3 -o /dev/null "$1" 2>/dev/null; }
if [[ -z "$url" ]] || ! answers "${url}v2/health/live"; then
  log="$(mktemp)"
  kubectl -n "$namespace" port-forward service/inference 0:80 >"$log" 2>&1 &
  forward_pid=$!
  port=""
  for _ in $(seq 1 50); do
    port="$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)"
    [[ -n "$port" ]] && break
    sleep 0.2
  done
  [[ -n "$port" ]] || fail "kubectl port-forward to service/inference in $namespace failed: $(cat "$log")"
  say "${url:+$url does not answer from here; }checking through: kubectl -n $namespace port-forward service/inference $port:80"
  url="http://127.0.0.1:$port/"
fi

ready=""
for _ in $(seq 1 60); do
  if answers "${url}v2/health/ready"; then ready=1; break; fi
  sleep 1
done
[[ -n "$ready" ]] || fail "${url}v2/health/ready did not answer 200 within 60 s (kubectl -n $namespace get pods; kubectl -n $namespace logs deploy/inference)"
body="$REPO_ROOT/.github/smoke/mpg-regressor-infer.json"
answer="$(curl -fsS --max-time 10 -H 'content-type: application/json' --data @"$body" "${url}v2/models/mpg-regressor/infer")" ||
  fail "the inference request to ${url}v2/models/mpg-regressor/infer failed"
mpg="$(node -e 'const a = JSON.parse(process.argv[1]); const d = a.outputs && a.outputs[0] && a.outputs[0].data; if (!Array.isArray(d) || typeof d[0] !== "number") process.exit(1); process.stdout.write(d[0].toFixed(1))' "$answer")" ||
  fail "unexpected inference answer: $answer"
cat <<MSG

Serving at $url (web form: $url, API docs: ${url}docs)
  \$ curl ${url}v2/health/ready
  200 OK
  \$ curl -H 'content-type: application/json' -d @.github/smoke/mpg-regressor-infer.json ${url}v2/models/mpg-regressor/infer
  $answer
  (a 1971 4-cylinder, 2,264 lb car with 90 hp: $mpg mpg predicted)
MSG
