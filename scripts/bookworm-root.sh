#!/usr/bin/env bash
# Makes a fresh minimal Debian 12 root (`debootstrap --variant=minbase
# bookworm`, the machine README "Two commands" measures the first start on)
# and prints the path of its tarball on stdout (all else goes to stderr).
# test/packaging/deb_install_test.sh unpacks it into a temporary folder per
# run and installs the .deb there. The tarball is made once per machine, in a
# cache outside the clone: only the first run pays for debootstrap (README
# "Installing on a server" has the times). Needs root and debootstrap
# (scripts/setup.sh installs it with the test packages).
#
# The cache key is everything that makes the root: suite, variant, mirror,
# architecture, apt sources, debootstrap's version. A change to any of them
# makes a new tarball beside the old. MATCHSYNC_CACHE_DIR moves the cache
# (default /var/cache/matchsync).
set -euo pipefail

suite=bookworm
variant=minbase
mirror=http://deb.debian.org/debian
arch=$(dpkg --print-architecture)
# The sources of a Debian 12 server as its installer writes them: the
# release, its updates and the security archive, so `apt-get -f install`
# fetches what an admin's machine would.
sources="Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"

log() { echo "bookworm-root: $*" >&2; }
[[ $(id -u) == 0 ]] || { log "needs root"; exit 1; }
# In a mount namespace of its own: what debootstrap mounts in the root goes
# with this run's last process, even one killed before its cleanup.
if [[ -z ${BOOKWORM_ROOT_IN_NS:-} ]]; then
  exec unshare --mount --propagation private env BOOKWORM_ROOT_IN_NS=1 "$0" "$@"
fi
command -v debootstrap >/dev/null ||
  { log "debootstrap missing (scripts/setup.sh installs it)"; exit 1; }

cache=${MATCHSYNC_CACHE_DIR:-/var/cache/matchsync}
key=$(printf '%s\n' "$suite" "$variant" "$mirror" "$arch" "$sources" \
  "$(debootstrap --version)" | sha256sum | cut -c 1-12)
tarball=$cache/$suite-$variant-$key.tar

# Two worktrees (or two CI jobs) asking at once: one makes it, the other
# waits. The tarball is renamed into place once whole, so an interrupted
# debootstrap or tar is never reused.
mkdir -p "$cache"
exec 9>"$tarball.lock"
flock 9
if [[ -f "$tarball" ]]; then
  echo "$tarball"
  exit 0
fi

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/var/tmp}/bookworm-root.XXXXXX")
# debootstrap mounts /proc and /sys in the root while it works and unmounts
# them itself; were it stopped first, they are unmounted here before anything
# is removed, and rm stays on this file system whatever is left mounted.
cleanup() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$work/" | sort -r); do
    umount -l "$m" || true
  done
  rm -rf --one-file-system "$work" "$tarball.tmp"
}
trap cleanup EXIT

log "debootstrap --variant=$variant $suite from $mirror (once per machine)"
debootstrap --variant="$variant" --arch="$arch" "$suite" "$work/root" "$mirror" \
  >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; log "FAILED: debootstrap"; exit 1; }
rm -f "$work/root/etc/apt/sources.list"
printf '%s\n' "$sources" >"$work/root/etc/apt/sources.list.d/debian.sources"
# Fetched packages and lists go: the root is as fresh as a new machine's,
# and each run's `apt-get update` fetches the current lists.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar --numeric-owner -C "$work/root" -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
log "made $(basename "$tarball") ($(du -h "$tarball" | cut -f1)) in $((SECONDS - start))s"
echo "$tarball"
