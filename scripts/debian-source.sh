#!/usr/bin/env bash
# Fetches the original source tarball Debian builds a package from, with a
# private apt configuration (a deb-src entry for bookworm main), so the
# machine's own sources and package lists are left as they are. Checks its
# checksum and unpacks it into DEST.
#
#   scripts/debian-source.sh PACKAGE VERSION SHA256 DEST
#
# Used by scripts/caf-tsan.sh (actor-framework) and scripts/httplib-tsan.sh
# (cpp-httplib): the libraries a ThreadSanitizer build must see instrumented.
set -euo pipefail
package=${1:?package} version=${2:?version} sha256=${3:?sha256} dest=${4:?dest}
log() { echo "debian-source: $*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/debian-source.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/src" "$dest"
: >"$work/apt/sources.list"
cat >"$work/apt/parts/bookworm-src.sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# APT::Sandbox::User=root: the private lists are not readable by _apt.
apt_opts=(-o APT::Sandbox::User=root -o "Dir::Etc::SourceList=$work/apt/sources.list"
          -o "Dir::Etc::SourceParts=$work/apt/parts"
          -o "Dir::State::Lists=$work/apt/lists"
          -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
log "fetching Debian's $package source"
apt-get -qq "${apt_opts[@]}" update >&2
# A Debian patch tarball that answers 404 makes apt-get exit non-zero after
# it fetched the original: the file decides, not the exit code.
(cd "$work/src" && apt-get -qq "${apt_opts[@]}" source --download-only "$package" >&2 2>&1) || true
orig=$(find "$work/src" -maxdepth 1 -name "${package}_${version}*.orig.tar.*" | head -n 1)
if [[ -z "$orig" ]]; then
  log "FAILED: apt-get source did not fetch ${package}_${version}'s original tarball"
  exit 1
fi
if ! echo "$sha256  $orig" | sha256sum --check --quiet - >&2; then
  log "FAILED: $(basename "$orig") does not have the expected checksum ($(sha256sum "$orig" | cut -c 1-64))"
  exit 1
fi
tar -xf "$orig" -C "$dest"
