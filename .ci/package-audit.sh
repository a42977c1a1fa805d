#!/usr/bin/env bash
# Fails on NuGet packages with a known high or critical vulnerability (transitive ones included) and on
# deprecated packages we reference. The vulnerability database comes from the package source; where it
# cannot be reached, `dotnet list package --vulnerable` reports nothing rather than an error, so a canary
# (a package with a known high-severity advisory) must be reported first or the check says it did not run.
# Exit: 0 clean, 1 findings, 3 the vulnerability database was unavailable (nothing was checked).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${AUDIT_OUT:-artifacts/audit}"
mkdir -p "$out"
command -v jq >/dev/null || { echo "package-audit: jq is required"; exit 2; }

canary="$(mktemp -d)"
trap 'rm -rf "$canary"' EXIT
cat > "$canary/canary.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><NuGetAudit>false</NuGetAudit><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <!-- GHSA-5crp-9r3c-p9vr (high): present in every copy of the advisory database. -->
  <ItemGroup><PackageReference Include="Newtonsoft.Json" Version="12.0.1" /></ItemGroup>
</Project>
XML
printf '<Project />' > "$canary/Directory.Build.props"
printf '<Project />' > "$canary/Directory.Packages.props"
if ! dotnet restore "$canary/canary.csproj" -v q >/dev/null 2>&1 \
  || ! dotnet list "$canary/canary.csproj" package --vulnerable --format json 2>/dev/null | jq -e '[.projects[].frameworks[]?.topLevelPackages[]?.vulnerabilities[]?] | length > 0' >/dev/null; then
  echo "package-audit: UNAVAILABLE - the NuGet vulnerability database cannot be reached from this machine (a known-vulnerable canary was not reported); no vulnerability check was made."
  status=3
else
  dotnet list AspireLlm.sln package --vulnerable --include-transitive --format json > "$out/vulnerable.json" 2>/dev/null
  findings=$(jq -r '.projects[] | .path as $p | .frameworks[]? | (.topLevelPackages // []) + (.transitivePackages // []) | .[]
      | select(.vulnerabilities) | .id as $id | .resolvedVersion as $v | .vulnerabilities[]
      | "\(.severity)\t\($id) \($v)\t\(.advisoryurl)\t\($p)"' "$out/vulnerable.json" | sort -u)
  if [ -n "$findings" ]; then echo "$findings"; fi
  if grep -qE '^(High|Critical)' <<<"$findings"; then
    echo "package-audit: FAILED - high or critical vulnerabilities (above)."
    status=1
  else
    echo "package-audit: no high or critical vulnerabilities."
    status=0
  fi
fi

dotnet list AspireLlm.sln package --deprecated --format json > "$out/deprecated.json" 2>/dev/null
deprecated=$(jq -r '.projects[] | .path as $p | .frameworks[]? | .topLevelPackages[]? | select(.deprecationReasons)
    | "\(.id) \(.resolvedVersion): \(.deprecationReasons | join(", ")) (use \(.alternativePackage.id // "nothing named")) in \($p)"' "$out/deprecated.json" | sort -u)
if [ -n "$deprecated" ]; then
  echo "$deprecated"
  echo "package-audit: FAILED - deprecated packages referenced (above)."
  [ "$status" -eq 0 ] && status=1
else
  echo "package-audit: no deprecated packages referenced."
fi
exit "$status"
