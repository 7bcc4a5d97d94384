#!/usr/bin/env bash
# The no-flake proof (CONTRIBUTING.md): runs the whole suite PASSES times in a row (default 3)
# while stress-ng keeps both cores busy beside it, and stops at the first failing pass.
# Usage: bash scripts/stress-suite.sh [passes]   (root; run from a clone, it runs `npm test`)
# Each pass's output goes to stress-pass-N.log in the current directory; the summary line of
# every pass and the wall time are printed. stress-ng is stopped by its PID on every exit.
set -euo pipefail
cd "$(dirname "$0")/.."
passes=${1:-3}
hogs=${STRESS_CPUS:-2}

command -v stress-ng >/dev/null || apt-get install -y -q stress-ng >/dev/null
stress-ng --cpu "$hogs" --cpu-method matrixprod --quiet &
hog_pid=$!
trap 'kill "$hog_pid" 2>/dev/null || true; wait "$hog_pid" 2>/dev/null || true' EXIT
echo "stress-suite: stress-ng --cpu $hogs running as pid $hog_pid" >&2

for pass in $(seq 1 "$passes"); do
  start=$(date +%s)
  log="stress-pass-$pass.log"
  if npm test >"$log" 2>&1; then status=passed; else status=FAILED; fi
  summary=$(grep -E '^tests: ' "$log" | tail -1 || true)
  echo "stress-suite: pass $pass/$passes $status in $(($(date +%s) - start)) s; ${summary:-no summary line}" >&2
  [ "$status" = passed ] || { echo "stress-suite: see $log" >&2; exit 1; }
done
echo "stress-suite: $passes passes in a row under $hogs CPU hogs" >&2
