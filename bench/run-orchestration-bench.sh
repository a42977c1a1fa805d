#!/usr/bin/env bash
# In-process cost of the model pipeline (see bench/OrchestrationBench/PipelineBenchmarks.cs):
# cache bypassed, cache miss and cache hit against a real local Redis, and an open breaker.
# Usage: bench/run-orchestration-bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
dotnet run -c Release --project bench/OrchestrationBench -- "$@"
