#!/usr/bin/env bash
# Builds CAF 0.17.6 (libcaf_core, libcaf_io, libcaf_openssl) with
# ThreadSanitizer from Debian's own source tarball, installs it into a cache
# outside the clone, and prints the install prefix on stdout (all else goes to
# stderr). A prefix already in the cache is reused: only the first run on a
# machine pays for the build (README "Tests" has the time).
#
# Debian's libcaf is not instrumented, so every actor message would look like
# a race to TSan; scripts/sanitize.sh tsan links matchsync against this one
# (MATCHSYNC_CAF_PREFIX, cmake/dependencies.cmake).
#
# The cache key is the version, the tarball's checksum, the flags and the
# compiler: a change to any of them builds a new prefix beside the old.
# MATCHSYNC_CACHE_DIR moves the cache (default /var/cache/matchsync).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

version=0.17.6
# Checksum of actor-framework_0.17.6.orig.tar.gz as bookworm's Sources lists it.
sha256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
# -include limits: the original's libcaf_io/caf/io/network/receive_buffer.hpp
# uses std::numeric_limits without <limits>, which GCC 12 refuses (Debian's
# patch, which is not served, adds the include); forcing the header in leaves
# the source as Debian ships it. -O1 -g1: built to run tests, with line
# tables for TSan's stacks (the same choice as MATCHSYNC_SANITIZE_OPT).
flags="-fsanitize=thread -fno-omit-frame-pointer -O1 -g1 -include limits"
cxx=${CXX:-c++}

cache=${MATCHSYNC_CACHE_DIR:-/var/cache/matchsync}
key=$(printf '%s\n' "$version" "$sha256" "$flags" "$("$cxx" --version | head -n 1)" |
  sha256sum | cut -c 1-12)
prefix=$cache/caf-$version-tsan-$key
log() { echo "caf-tsan: $*" >&2; }

source "$root/scripts/cache-entry.sh"
reuse_or_lock "$prefix"

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/caf-tsan.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Debian's source (a private apt configuration: the machine's own sources are
# left as they are), checksum checked.
mkdir -p "$work/src"
"$root/scripts/debian-source.sh" actor-framework "$version" "$sha256" "$work/src"

log "building CAF $version with ThreadSanitizer into $prefix"
# CMAKE_BUILD_TYPE=None: no build type flags beside ours (CAF's default is
# RelWithDebInfo's -O2 -g). $ORIGIN: each library finds the others beside it
# (libcaf_io needs libcaf_core), never the system's of the same soname.
cmake -S "$work/src/actor-framework-$version" -B "$work/build" \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_INSTALL_PREFIX="$prefix.tmp" \
  -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_RPATH='$ORIGIN' \
  -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_EXAMPLES=yes -DCAF_NO_OPENCL=yes \
  -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes >&2
cmake --build "$work/build" -j "$(nproc)" >&2
rm -rf "$prefix.tmp"
cmake --install "$work/build" >&2

for lib in core io openssl; do
  so=$prefix.tmp/lib/libcaf_$lib.so
  # grep without -q reads all of nm's output: with -q it exits at the first
  # match, nm dies of SIGPIPE and pipefail calls the check failed.
  if [[ ! -f "$so" ]] || ! nm -D "$so" | grep __tsan_ >/dev/null; then
    log "FAILED: $so missing or not instrumented with ThreadSanitizer"
    exit 1
  fi
done
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
touch "$prefix/.complete"
log "built in $((SECONDS - start))s"
echo "$prefix"
