#!/usr/bin/env bash
# Normal traffic and /health latency on a quiet Api, then under a burst of the worst requests we know (see bench/HostileBench/Program.cs).
# Usage: bench/run-hostile-bench.sh [--duration 20] [--warmup 60] [--rate 100] [--clients 8] [--env NAME=VALUE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
dotnet build -c Release Api/Api.csproj -v q -nologo
dotnet build -c Release bench/HostileBench -v q -nologo
# Everything but the Api (this driver, the mock upstream, Redis, Postgres) on core 0; the Api pins itself to core 1.
taskset -c 0 dotnet run -c Release --no-build --project bench/HostileBench -- "$@"
