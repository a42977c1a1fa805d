#!/usr/bin/env bash
# The agents benchmark (see bench/AgentsBench/Program.cs): idle WebSocket session memory, event relay
# latency, Worker CPU per agent step. Builds Release and prints the figures.
# Usage: bench/run-agents-bench.sh [--sessions 1000] [--rate 200] [--duration 10] [--tasks 100] [--hold SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-servers.sh
ulimit -n 65536 2>/dev/null || ulimit -n 4096 || true   # a thousand sockets each side
dotnet build -c Release Api/Api.csproj -v q -nologo
dotnet build -c Release Worker/Worker.csproj -v q -nologo
dotnet run -c Release --project bench/AgentsBench -- "$@"
