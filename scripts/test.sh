#!/usr/bin/env bash
# The one test command: installs packages, builds, and runs every test (unit,
# PostgreSQL, processes, fault injection, security, browser) with ctest, then
# every parser's fuzzer. CI runs exactly this. Arguments go to ctest, e.g.
# `scripts/test.sh -R job_store`.
#
# ThreadSanitizer runs on the suites where threads meet outside CAF (the
# upstream client's lanes, cancel token and budget; the event bus; the HTTP
# units): scripts/sanitize.sh tsan, 3.5 min (build-tsan/). The ASan+UBSan
# run of every test (scripts/sanitize.sh asan) is not part of it by default:
# it would take CI past its 20-minute budget on two cores (measured on a
# quiet machine: build about 9 min, suite 10 min, beside 6 + 5 min plain).
# MATCHSYNC_SANITIZERS=1 adds it; MATCHSYNC_SKIP_TSAN=1 skips the TSan part.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

# Every part runs even when one before it failed, so one run shows all.
failed=()
start=$SECONDS
if "$root/scripts/build.sh"; then
  build=${MATCHSYNC_BUILD_DIR:-$root/build}
  (cd "$build" && "$root/scripts/ctest-clean.sh" --output-on-failure -j 2 "$@") || failed+=(ctest)
else
  failed+=(build)
fi
echo "== build and ctest: $((SECONDS - start))s"
# With ctest arguments (one suite, say) the sanitizer suites are not the point.
if (($# == 0)) && [[ "${MATCHSYNC_SKIP_TSAN:-0}" != 1 ]]; then
  start=$SECONDS
  "$root/scripts/sanitize.sh" tsan || failed+=(tsan)
  echo "== tsan: $((SECONDS - start))s"
fi
if [[ "${MATCHSYNC_SANITIZERS:-0}" == 1 ]]; then
  start=$SECONDS
  "$root/scripts/sanitize.sh" asan "$@" || failed+=(asan)
  echo "== asan: $((SECONDS - start))s"
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
