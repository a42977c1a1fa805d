#!/usr/bin/env bash
# In-process cost of the model pipeline (see bench/OrchestrationBench/PipelineBenchmarks.cs):
# cache bypassed, cache miss and cache hit against a real local Redis, and an open breaker.
# --rollup instead measures what the dashboard's metric rollup and the gateway usage sums add to a
# gateway request (bench/OrchestrationBench/RollupBenchmarks.cs); --provider what the OpenAI SDK adds to a
# chat call over the bare HTTP exchange (bench/OrchestrationBench/ProviderClientBenchmarks.cs); --tokens what
# counting a request's prompt costs, afresh and with a tenant's repeated texts remembered
# (bench/OrchestrationBench/TokenCountingBenchmarks.cs).
# Usage: bench/run-orchestration-bench.sh [--quick] [--rollup | --provider | --tokens]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
dotnet run -c Release --project bench/OrchestrationBench -- "$@"
