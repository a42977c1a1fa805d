#!/usr/bin/env bash
# Installs the servers the tests start when they are missing: redis-server (what production runs;
# Garnet, the fallback for machines without it, comes from NuGet), the PostgreSQL server binaries, chromium,
# and curl and jq for the smoke test script.
# Used by .ci/run and by ./test.sh, so the README's test command works on a new machine too.
set -uo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# deploy/smoke-test.sh (run by a system test and after every deployment) uses curl and jq.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then
  missing+=(postgresql)
fi
# The dashboard's browser tests drive Debian's chromium through Playwright (no browser download).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
((${#missing[@]})) || exit 0
echo "Installing ${missing[*]}..."
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
  || { echo "Could not install ${missing[*]}"; exit 1; }
