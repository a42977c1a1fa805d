#!/usr/bin/env bash
# Regenerates deploy/kubernetes and deploy/compose from the AppHost (its Aspire manifest) and
# deploy/settings.json. Run after changing either; CI fails when the committed files differ
# (tests/DeployTests: GeneratedFilesTests).
set -euo pipefail
cd "$(dirname "$0")/.."
manifest="$(mktemp --suffix=.json)"
trap 'rm -f "$manifest"' EXIT
dotnet build AppHost/AppHost.csproj -nologo -v q >/dev/null
dotnet build deploy/DeployGenerator/DeployGenerator.csproj -nologo -v q >/dev/null
dotnet run --project AppHost --no-build --no-launch-profile -- --publisher manifest --output-path "$manifest" >/dev/null
dotnet run --project deploy/DeployGenerator --no-build -- --manifest "$manifest" --settings deploy/settings.json --output deploy
