#!/usr/bin/env bash
# The gateway's own cost per request, with the mock provider in its own process and the in-process fake (see bench/GatewayBench/Program.cs).
# Usage: bench/run-gateway-bench.sh [--duration 10] [--curve 180] [--upstream both|external|fake] [--connections N] [--env NAME=VALUE]
#        [--trace N] [--versus NAME=VALUE] [--versus-build DIR] [--rounds 6]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
if ! command -v wrk > /dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q wrk > /dev/null; else sudo apt-get install -y -q wrk > /dev/null; fi
fi
dotnet build -c Release Api/Api.csproj -v q -nologo
dotnet build -c Release bench/GatewayBench -v q -nologo
# Everything but the Api (this driver with the mock upstream, wrk, Redis, Postgres) on core 0; the
# Api pins itself to core 1. Without this, the load generator steals the Api's core and the CPU
# time per request measured depends on the noise.
taskset -c 0 dotnet run -c Release --no-build --project bench/GatewayBench -- "$@"
