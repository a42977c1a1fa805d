#!/usr/bin/env bash
# Post-deploy smoke test: is this deployment serving? Run against any deployment (azd, Kubernetes,
# Compose, or `dotnet run --project AppHost`):
#   ADMIN_KEY=... deploy/smoke-test.sh https://api.example.com [https://dashboard.example.com]
# Checks, in order: liveness and readiness, that a request without a key is refused, the model list,
# a streamed chat completion to its [DONE], and a job through the Worker to "completed" (so the
# migrations ran, Postgres, Redis and the Worker work). SMOKE_MODEL picks the model (gpt-4o-mini);
# SMOKE_TIMEOUT bounds the job (90 s). Exits 0 when every check passed; prints one line per check.
set -uo pipefail
api="${1:?usage: ADMIN_KEY=... smoke-test.sh API_URL [DASHBOARD_URL]}"
api="${api%/}"
dashboard="${2:-}"
key="${ADMIN_KEY:?set ADMIN_KEY to an admin API key}"
model="${SMOKE_MODEL:-gpt-4o-mini}"
timeout="${SMOKE_TIMEOUT:-90}"
failed=0

pass() { echo "ok    $1"; }
fail() { echo "FAIL  $1"; failed=1; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$@"; }

[ "$(status_of "$api/alive")" = 200 ] && pass "GET /alive" || fail "GET /alive"
[ "$(status_of "$api/health")" = 200 ] && pass "GET /health (ready: database and cache reachable)" || fail "GET /health"
[ "$(status_of "$api/v1/models")" = 401 ] && pass "a request without a key is refused (401)" || fail "a request without a key is not refused"

models="$(curl -s --max-time 15 -H "Authorization: Bearer $key" "$api/v1/models")"
if jq -e --arg m "$model" '.data | map(.id) | index($m) != null' >/dev/null 2>&1 <<<"$models"; then
  pass "GET /v1/models lists $model"
else
  fail "GET /v1/models does not list $model: ${models:0:200}"
fi

body=$(jq -cn --arg m "$model" '{model: $m, stream: true, max_tokens: 16, messages: [{role: "user", content: "Say hello."}]}')
stream="$(curl -sN --max-time 60 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" "$api/v1/chat/completions")"
if grep -q '^data: \[DONE\]' <<<"$stream" && grep -q '"delta"' <<<"$stream"; then
  pass "streamed chat completion ends with [DONE]"
else
  fail "streamed chat completion: ${stream:0:300}"
fi

job_body=$(jq -cn --arg m "$model" '{kind: "chat.completion", input: {model: $m, max_tokens: 16, messages: [{role: "user", content: "Say hello."}]}}')
job="$(curl -s --max-time 15 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$job_body" "$api/v1/jobs")"
id="$(jq -r '.id // empty' <<<"$job" 2>/dev/null)"
if [ -z "$id" ]; then
  fail "POST /v1/jobs: ${job:0:300}"
else
  status=""
  for ((waited = 0; waited < timeout; waited++)); do
    status="$(curl -s --max-time 15 -H "Authorization: Bearer $key" "$api/v1/jobs/$id" | jq -r '.status // empty' 2>/dev/null)"
    [[ "$status" =~ ^(completed|failed|cancelled)$ ]] && break
    sleep 1
  done
  [ "$status" = completed ] && pass "job $id completed through the Worker" || fail "job $id is '$status' after ${timeout} s"
fi

if [ -n "$dashboard" ]; then
  [ "$(status_of "${dashboard%/}/health")" = 200 ] && pass "dashboard GET /health" || fail "dashboard GET /health"
fi

if [ "$failed" -eq 0 ]; then echo "smoke test passed"; else echo "smoke test FAILED"; fi
exit "$failed"
