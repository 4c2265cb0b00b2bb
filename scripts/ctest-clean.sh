#!/usr/bin/env bash
# ctest without the caller's MATCHSYNC_* variables. Tests start `matchsync`,
# which would obey a developer's real ones and warn about the ones it does
# not know (the knobs of the test scripts among them: MATCHSYNC_SKIP_ASAN,
# MATCHSYNC_ASAN_BUILD_DIR...). The test harness's MATCHSYNC_TEST_*
# stay. Usage: scripts/ctest-clean.sh [CTEST_ARGS...] (in a build directory).
set -euo pipefail
drop=()
for name in $(compgen -e); do
  [[ $name == MATCHSYNC_* && $name != MATCHSYNC_TEST_* ]] && drop+=(-u "$name")
done
exec env "${drop[@]}" ctest "$@"
