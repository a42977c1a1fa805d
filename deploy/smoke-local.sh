#!/usr/bin/env bash
# Starts the AppHost (Redis and Postgres as local processes where no container engine answers),
# runs deploy/smoke-test.sh against its Api and dashboard, and stops it. Used by .ci/check.
set -uo pipefail
cd "$(dirname "$0")/.."
key="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
log="$(mktemp)"
dotnet build AppHost/AppHost.csproj -nologo -v q >/dev/null || exit 1
env "Parameters__admin-key=$key" \
  dotnet run --project AppHost --no-build --launch-profile http >"$log" 2>&1 &
apphost=$!
trap 'kill -TERM "$apphost" 2>/dev/null; wait "$apphost" 2>/dev/null; rm -f "$log"' EXIT
api=http://localhost:5180
dashboard=http://localhost:5380
for ((i = 0; i < 180; i++)); do
  curl -sf -o /dev/null "$api/health" && curl -sf -o /dev/null "$dashboard/health" && break
  kill -0 "$apphost" 2>/dev/null || { echo "the AppHost exited:"; cat "$log"; exit 1; }
  sleep 1
done
ADMIN_KEY="$key" deploy/smoke-test.sh "$api" "$dashboard"
