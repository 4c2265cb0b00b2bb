#!/usr/bin/env bash
# Builds the .deb (README "Installing on a server"): the binary alone, then
# CPack. Prints the package's path. Needs dpkg-dev (dpkg-shlibdeps names the
# dependencies), which scripts/setup.sh installs with the test packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MATCHSYNC_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" matchsync >&2
out=${1:-$build/packages}
mkdir -p "$out"
(cd "$build" && cpack -G DEB -B "$out" >&2)
ls "$out"/matchsync_*.deb
