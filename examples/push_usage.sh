#!/usr/bin/env bash
# Push one hour of usage for a workload to Crossover.
#
#   CROSSOVER_URL=http://127.0.0.1:8000 CROSSOVER_TOKEN=cx_… ./examples/push_usage.sh [workload]
#
# Create a token with:  python manage.py create_api_token --team demo --name pusher --scope usage:write
# The record id makes retries safe: pushing the same hour twice counts it once.
set -euo pipefail
: "${CROSSOVER_URL:?set CROSSOVER_URL, e.g. http://127.0.0.1:8000}"
: "${CROSSOVER_TOKEN:?set CROSSOVER_TOKEN to a token with the usage:write scope}"
WORKLOAD="${1:-ticket-classifier}"
START="$(date -u -d '1 hour ago' +%Y-%m-%dT%H:00:00Z)"
END="$(date -u +%Y-%m-%dT%H:00:00Z)"

curl --fail-with-body --silent --show-error \
  -X POST "$CROSSOVER_URL/api/v1/usage" \
  -H "Authorization: Bearer $CROSSOVER_TOKEN" \
  -H "Content-Type: application/json" \
  --data @- <<JSON
{"records": [{
  "id": "$WORKLOAD-$START",
  "workload": "$WORKLOAD",
  "period_start": "$START",
  "period_end": "$END",
  "requests": 4200,
  "input_tokens": 8316000,
  "output_tokens": 168000,
  "approach": "prompt",
  "model": "gpt-4o-mini",
  "latency_p50_ms": 320,
  "latency_p99_ms": 910,
  "format_errors": 380,
  "cost_usd": 1.35
}]}
JSON
echo
