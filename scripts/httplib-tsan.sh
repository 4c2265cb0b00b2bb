#!/usr/bin/env bash
# Puts cpp-httplib 0.11.4's single header, as Debian's own source ships it,
# into a cache outside the clone and prints the folder that holds it
# (PREFIX/include/httplib.h) on stdout (all else goes to stderr). A prefix
# already in the cache is reused.
#
# Why: Debian splits httplib into a header of declarations and an
# uninstrumented libcpp-httplib.so. TSan sees none of that library's loads,
# stores or guard checks, only the mem* calls it makes, so the first use of
# one of its function-local statics by two server threads (the methods set of
# Server::parse_request_line, the regexes of Client's constructor) reads as a
# race. Built from the single header, every line of httplib is compiled into
# the TSan build, instrumented, with the same version and the same features
# (MATCHSYNC_HTTPLIB_HEADER_DIR, cmake/dependencies.cmake).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

version=0.11.4
# Checksum of cpp-httplib_0.11.4+ds.orig.tar.xz as bookworm's Sources lists it.
sha256=8b1a5df569003b6a4f24c68489bbda5c64aec94697bdc9ebba5d79408b2ae7eb
cache=${MATCHSYNC_CACHE_DIR:-/var/cache/matchsync}
prefix=$cache/cpp-httplib-$version-${sha256:0:12}

source "$root/scripts/cache-entry.sh"
reuse_or_lock "$prefix"
src=$(mktemp -d "${TMPDIR:-/tmp}/httplib-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
"$root/scripts/debian-source.sh" cpp-httplib "$version" "$sha256" "$src"
header=$(find "$src" -maxdepth 2 -name httplib.h | head -n 1)
if [[ -z "$header" ]] || ! grep -q "CPPHTTPLIB_VERSION \"$version\"" "$header"; then
  echo "httplib-tsan: FAILED: no httplib.h of version $version in the source" >&2
  exit 1
fi
rm -rf "$prefix.tmp" "$prefix"
mkdir -p "$prefix.tmp/include"
cp "$header" "$prefix.tmp/include/httplib.h"
mv "$prefix.tmp" "$prefix"
touch "$prefix/.complete"
echo "$prefix"
