#!/usr/bin/env bash
# The async job path benchmark (see bench/JobsBench/Program.cs). Builds Release and prints a table.
# Usage: bench/run-jobs-bench.sh [--duration 15] [--paced-rate 100] [--concurrency 50] [--workers 2] (more in the README)
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
dotnet build -c Release Api/Api.csproj -v q -nologo
dotnet build -c Release Worker/Worker.csproj -v q -nologo
dotnet run -c Release --project bench/JobsBench -- "$@"
