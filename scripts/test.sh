#!/bin/sh
# Runs the whole test suite against real PostgreSQL, Redis and S3-compatible servers that the tests start
# themselves on loopback. Installs what is missing; safe to run again. Ends with "N passed, N failed, N skipped".
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --test

if [ -f tests/tools/package.json ]; then
  (cd tests/tools && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi) >&2
fi

results=".build/test-results"
rm -rf "$results"
mkdir -p "$results"

# The Kubernetes tests (tests/Steward.Kubernetes.Tests) run on a real local cluster (scripts/k8s-cluster.sh, root only).
# It is brought up in the background while the solution builds and the other test projects run; the Kubernetes tests
# run after them, once it is up, and fail with its output when it cannot come up. A cluster this run started is
# stopped at the end, by process id; one that was already running is left running (docs/kubernetes.md).
k8s_started=0
k8s_pid=""
if ! bash scripts/k8s-cluster.sh ready >/dev/null 2>&1; then
  k8s_started=1
  # A cold cluster is built from source (minutes of both cores): at a low priority, in the time the tests leave idle.
  STEWARD_K8S_BUILD_NICE=15 bash scripts/k8s-cluster.sh up > .build/k8s-cluster.log 2>&1 &
  k8s_pid=$!
fi
stop_k8s() {
  if [ "$k8s_started" -eq 1 ]; then
    bash scripts/k8s-cluster.sh down >> .build/k8s-cluster.log 2>&1 || true
  fi
}
trap stop_k8s EXIT

status=0
dotnet build Steward.sln -c Release -nologo -clp:ErrorsOnly || status=$?
if [ "$status" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

dotnet test Steward.sln -c Release --no-build --results-directory "$results" --filter "FullyQualifiedName!~Steward.Kubernetes.Tests" \
  --logger "trx" --logger "console;verbosity=normal" --blame-hang-timeout 10m || status=$?

# A cold cluster can still be building (minutes more on a fresh machine): waited for here, with its progress, rather
# than inside a test, where the hang detector would end the test host after 10 minutes without a test event.
if [ -n "$k8s_pid" ]; then
  while kill -0 "$k8s_pid" 2>/dev/null && [ "$(ps -o stat= -p "$k8s_pid" 2>/dev/null | cut -c1)" != Z ]; do
    echo "waiting for the Kubernetes cluster (scripts/k8s-cluster.sh up): $(tail -n 1 .build/k8s-cluster.log 2>/dev/null | cut -c1-120)"
    sleep 30
  done
fi
dotnet test tests/Steward.Kubernetes.Tests -c Release --no-build --results-directory "$results" \
  --logger "trx" --logger "console;verbosity=normal" --blame-hang-timeout 10m || status=$?

passed=0; failed=0; skipped=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  p=$(echo "$line" | sed -n 's/.* passed="\([0-9]*\)".*/\1/p')
  x=$(echo "$line" | sed -n 's/.* failed="\([0-9]*\)".*/\1/p')
  n=$(echo "$line" | sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p')
  passed=$((passed + ${p:-0})); failed=$((failed + ${x:-0})); skipped=$((skipped + ${n:-0}))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The runner failed without a failing test (a crashed or hung test host): count it as a failure.
  failed=1
fi

if [ "$failed" -gt 0 ]; then
  # Each failed test's message again, right above the summary: a log cut from the top keeps them (stack traces are above).
  echo "Failed tests (messages; stack traces in the output above):"
  for f in "$results"/*.trx; do
    [ -f "$f" ] && awk -f scripts/trx-failures.awk "$f"
  done
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
