#!/usr/bin/env bash
# The gateway's own cost per request, against a zero-latency mock upstream (see bench/GatewayBench/Program.cs).
# Usage: bench/run-gateway-bench.sh [--duration 10]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
if ! command -v wrk > /dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q wrk > /dev/null; else sudo apt-get install -y -q wrk > /dev/null; fi
fi
dotnet build -c Release Api/Api.csproj -v q -nologo
dotnet run -c Release --project bench/GatewayBench -- "$@"
