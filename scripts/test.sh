#!/usr/bin/env bash
# The one test command: installs packages, builds, and runs every test
# (unit, PostgreSQL, processes, browser) with ctest. CI runs exactly this.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build=${MATCHSYNC_BUILD_DIR:-$root/build}
(cd "$build" && ctest --output-on-failure -j 2 "$@")
# Every parser of outside input, fuzzed from a fixed seed (fuzz/).
if [[ "${MATCHSYNC_SKIP_FUZZ:-0}" != 1 ]]; then
  MATCHSYNC_FUZZ_RUNS=${MATCHSYNC_FUZZ_RUNS:-20000} "$root/scripts/fuzz.sh"
fi
