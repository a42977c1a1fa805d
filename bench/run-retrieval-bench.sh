#!/usr/bin/env bash
# The retrieval benchmark (see bench/RetrievalBench/Program.cs): builds Release and prints a table.
# Usage: bench/run-retrieval-bench.sh [--sizes 10000,100000] [--queries 200] [--exploration 200] [--only search|semantic|memory]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
dotnet run -c Release --project bench/RetrievalBench -- "$@"
