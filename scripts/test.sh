#!/usr/bin/env bash
# The one test command: installs packages, builds, and runs every test (unit,
# PostgreSQL, processes, fault injection, security, browser) with ctest on a
# plain build, again on an ASan+UBSan build and again on a TSan build (whose
# CAF is built with TSan from Debian's source and cached outside the clone:
# scripts/caf-tsan.sh; httplib compiled in from its single header:
# scripts/httplib-tsan.sh), then every parser's fuzzer. CI runs exactly this.
#
# What can run side by side does: the builds follow one another (each takes
# both cores), and each build's suite runs while the next one builds (the
# suites mostly wait: on PostgreSQL, on processes, on paced upstreams).
# README "Tests" has the times.
#
# Under ASan leaks are checked too, and the processes the tests start (serve,
# worker, the fake) are built the same way.
#
# Arguments go to ctest and run the plain suite only, e.g.
# `scripts/test.sh -R job_store`; MATCHSYNC_QUICK=1 scripts/test.sh runs the
# whole plain suite alone (no sanitizers, no fuzzing). MATCHSYNC_SKIP_ASAN=1,
# MATCHSYNC_SKIP_TSAN=1 and MATCHSYNC_SKIP_FUZZ=1 leave out one part.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

build=${MATCHSYNC_BUILD_DIR:-$root/build}
logs=$build/test-logs
mkdir -p "$logs"
rm -f "$logs"/*.log "$logs"/*.rc
sanitizers=1
if (($# > 0)) || [[ "${MATCHSYNC_QUICK:-0}" == 1 ]]; then
  sanitizers=0
fi
want() {  # want PART: whether this run includes the sanitizer part PART
  local skip="MATCHSYNC_SKIP_${1^^}"
  ((sanitizers)) && [[ "${!skip:-0}" != 1 ]]
}

t0=$SECONDS
failed=()
background=()
# run_bg NAME CMD...: runs CMD in the background, its output in LOGS/NAME.log.
run_bg() {
  local name=$1; shift
  ( "$@" >"$logs/$name.log" 2>&1; echo $? >"$logs/$name.rc" ) &
  background+=("$name")
  echo "== $name: started at $((SECONDS - t0))s (log: $logs/$name.log)"
}
# step NAME CMD...: runs CMD in the foreground; a failure is noted, not fatal.
step() {
  local name=$1; shift
  local start=$SECONDS
  if "$@"; then
    echo "== $name: $((SECONDS - start))s, ended at $((SECONDS - t0))s"
    return 0
  fi
  echo "== $name: FAILED after $((SECONDS - start))s"
  failed+=("$name")
  return 1
}

# Every part runs even when one before it failed, so one run shows all.
if step build "$root/scripts/build.sh"; then
  run_bg ctest bash -c 'cd "$1" && shift && exec "$0" --output-on-failure -j 2 "$@"' \
    "$root/scripts/ctest-clean.sh" "$build" "$@"
fi
for kind in asan tsan; do
  want "$kind" || continue
  if step "$kind build" env MATCHSYNC_SANITIZE_STEP=build "$root/scripts/sanitize.sh" "$kind"; then
    run_bg "$kind" env MATCHSYNC_SANITIZE_STEP=test "$root/scripts/sanitize.sh" "$kind"
  fi
done
# Every parser of outside input, fuzzed from a fixed seed (fuzz/).
if ((sanitizers)) && [[ "${MATCHSYNC_SKIP_FUZZ:-0}" != 1 ]]; then
  step fuzz env MATCHSYNC_FUZZ_RUNS="${MATCHSYNC_FUZZ_RUNS:-20000}" "$root/scripts/fuzz.sh" || true
fi

wait
for name in "${background[@]}"; do
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 1)
  # The summary and any failure's output; the whole log stays in LOGS.
  if [[ "$rc" != 0 ]]; then
    echo "==== $name: FAILED (exit $rc); its log:"
    cat "$logs/$name.log"
    failed+=("$name")
  else
    echo "==== $name: passed; $(grep -E '^== .*tests: |tests passed, ' "$logs/$name.log" | tr '\n' ' ')"
  fi
done
echo "== total: $((SECONDS - t0))s"
if ((${#failed[@]})); then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all parts passed"
