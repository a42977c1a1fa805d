#!/usr/bin/env bash
# Runs every test on a new machine: installs the servers the tests start (redis-server; PostgreSQL
# if its binaries are missing), builds, runs unit, service and whole-system tests, and prints one
# summary line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

.ci/install-servers.sh || { echo "0 passed, 1 failed"; exit 1; }

results="$(pwd)/TestResults"
rm -rf "$results"

dotnet build AspireLlm.sln -warnaserror || { echo "0 passed, 1 failed"; exit 1; }

dotnet test AspireLlm.sln --no-build --logger "trx" --logger "console;verbosity=normal" --results-directory "$results"
status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  total=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + total - p - f))
done
if [ "$failed" -gt 0 ]; then
  # CI keeps only the end of the output: name each failed test and its first error line right here.
  echo "Failed tests:"
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    python3 - "$trx" <<'EOF' || grep -o 'testName="[^"]*"[^>]*outcome="Failed"' "$trx"
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for result in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if result.get("outcome") != "Failed":
        continue
    message = result.find(".//t:ErrorInfo/t:Message", ns)
    first = (message.text or "").strip().splitlines()[0][:300] if message is not None and message.text else ""
    stack = result.find(".//t:ErrorInfo/t:StackTrace", ns)
    frames = [line.strip()[:300] for line in (stack.text or "").splitlines() if " in " in line] if stack is not None else []
    # A library's exception (Playwright's timeout, say) starts in the library: name the test's own line too.
    own = next((frame for frame in frames if "/tests/" in frame), "")
    shown = "\n    ".join(dict.fromkeys(frame for frame in frames[:1] + [own] if frame))
    print(f"  {result.get('testName')}\n    {first}\n    {shown}")
EOF
  done
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # the run failed without a failing test (a crash or a timeout): never report it green
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
