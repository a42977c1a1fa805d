#!/usr/bin/env bash
# Each dashboard page's first render and each admin endpoint it calls, on a database seeded with
# 1 000 000 ledger rows and 100 000 jobs (see bench/DashboardBench/Program.cs). Builds Release and prints a table.
# Usage: bench/run-dashboard-bench.sh [--runs 10] [--ledger-rows 1000000] [--jobs 100000] [--keys 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
dotnet build -c Release Api/Api.csproj -v q -nologo
dotnet build -c Release Dashboard.Web/Dashboard.Web.csproj -v q -nologo
dotnet run -c Release --project bench/DashboardBench -- "$@"
