#!/usr/bin/env bash
# Smoke test of a deployed endpoint: readiness, then one inference on the MPG regressor.
# Usage: .github/scripts/smoke-test.sh <endpointUrl>
set -euo pipefail
base="${1:?usage: smoke-test.sh <endpointUrl>}"
base="${base%/}"
here="$(cd "$(dirname "$0")/.." && pwd)"

# Readiness: a fresh rollout and DNS/ingress propagation take a while; wait up to ~5 minutes.
for attempt in $(seq 1 30); do
  if curl --fail --silent --show-error --max-time 10 "$base/v2/health/ready" >/dev/null; then
    echo "ready after $attempt attempt(s): $base/v2/health/ready"
    break
  fi
  if [ "$attempt" -eq 30 ]; then
    echo "::error::$base/v2/health/ready did not answer 200 within 30 attempts"
    exit 1
  fi
  sleep 10
done

response="$(curl --fail --silent --show-error --max-time 30 \
  -H 'content-type: application/json' \
  --data @"$here/smoke/mpg-regressor-infer.json" \
  "$base/v2/models/mpg-regressor/infer")"
echo "inference response: $response"
# One output whose first value is a plausible fuel economy (miles per gallon).
echo "$response" | jq -e '
  .model_name == "mpg-regressor"
  and (.outputs | length) >= 1
  and (.outputs[0].data[0] | type == "number" and . > 5 and . < 80)' >/dev/null || {
  echo "::error::unexpected inference response from $base/v2/models/mpg-regressor/infer"
  exit 1
}
echo "smoke test passed"
