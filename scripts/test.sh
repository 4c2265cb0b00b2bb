#!/usr/bin/env bash
# The one test command: installs packages, builds, and runs every test (unit,
# PostgreSQL, processes, fault injection, security, browser) with ctest, then
# every parser's fuzzer. CI runs exactly this. Arguments go to ctest, e.g.
# `scripts/test.sh -R job_store`.
#
# The sanitizer runs (scripts/sanitize.sh asan|tsan, README "Tests") are not
# part of it by default: the ASan+UBSan build of everything plus its slower
# suite would take CI past its 20-minute budget on two cores (measured under
# load: 52 min build, 10 min suite). MATCHSYNC_SANITIZERS=1 adds both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

# Every part runs even when one before it failed, so one run shows all.
failed=()
start=$SECONDS
if "$root/scripts/build.sh"; then
  build=${MATCHSYNC_BUILD_DIR:-$root/build}
  (cd "$build" && ctest --output-on-failure -j 2 "$@") || failed+=(ctest)
else
  failed+=(build)
fi
echo "== build and ctest: $((SECONDS - start))s"
if [[ "${MATCHSYNC_SANITIZERS:-0}" == 1 ]]; then
  start=$SECONDS
  "$root/scripts/sanitize.sh" asan "$@" || failed+=(asan)
  "$root/scripts/sanitize.sh" tsan || failed+=(tsan)
  echo "== sanitizers: $((SECONDS - start))s"
fi
# Every parser of outside input, fuzzed from a fixed seed (fuzz/).
if [[ "${MATCHSYNC_SKIP_FUZZ:-0}" != 1 ]]; then
  start=$SECONDS
  MATCHSYNC_FUZZ_RUNS=${MATCHSYNC_FUZZ_RUNS:-20000} "$root/scripts/fuzz.sh" || failed+=(fuzz)
  echo "== fuzz: $((SECONDS - start))s"
fi
if ((${#failed[@]})); then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all parts passed"
