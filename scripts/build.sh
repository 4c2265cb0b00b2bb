#!/usr/bin/env bash
# Configures and builds matchsync into build/ (or $MATCHSYNC_BUILD_DIR).
#   scripts/build.sh            every target (the tests too)
#   scripts/build.sh matchsync  only the named targets (run.sh: the binary)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MATCHSYNC_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} >/dev/null
if (($#)); then
  cmake --build "$build" -j "$(nproc)" --target "$@"
else
  cmake --build "$build" -j "$(nproc)"
fi
