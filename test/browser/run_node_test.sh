#!/usr/bin/env bash
# One node:test file of this folder as a ctest entry, without the C++ server:
#   run_node_test.sh BUILD_DIR FILE.test.mjs
# page_logic.test.mjs (the page's pure logic) and stand_in.test.mjs (the
# dashboard scenarios in chromium against the in-memory stand-in API, auth on
# and off). Screenshots go to BUILD_DIR/test-output/browser-node/FILE/.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR FILE.test.mjs" >&2
  exit 2
fi
build=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
chromium=${MATCHSYNC_CHROMIUM:-/usr/bin/chromium}
die() { echo "run_node_test: $*" >&2; exit 1; }
source "$here/node_prerequisites.sh"
out="$build/test-output/browser-node/${2%.test.mjs}"
rm -rf "$out"
mkdir -p "$out"
cd "$here"
# setsid + pdeathsig: a ctest timeout stops chromium with node.
exec env MATCHSYNC_CHROMIUM="$chromium" MATCHSYNC_TEST_OUTPUT_DIR="$out" \
  setsid setpriv --pdeathsig TERM -- node --test --test-reporter=spec "$2"
