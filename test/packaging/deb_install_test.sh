#!/usr/bin/env bash
# The .deb installed for real, as README "Installing on a server" tells an
# admin: into a fresh Debian 12 root (debootstrap --variant=minbase, cached
# by scripts/bookworm-root.sh, unpacked into a temporary folder per run),
# `dpkg -i` (which fails there, the libraries missing) then
# `apt-get -f install`, which fetches the dependencies from deb.debian.org.
# Then: the package is installed, `matchsync --version` runs inside the root
# on its libraries alone, the system user exists, /etc/matchsync is the
# user's to read, no unit is enabled. Then systemd goes into the root (a
# minbase root has none): no unit is enabled, `systemctl enable` works, the
# root's systemd-analyze verify accepts both units; and `dpkg --purge`
# removes the package and the units' links. Needs root, chroot and the
# network. deb_test checks the same package's contents without installing it.
# Usage: deb_install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
[[ $(id -u) == 0 ]] || { echo "deb_install_test: needs root, skipped"; exit 77; }
# In a mount namespace of its own: /proc mounted in the root is this run's
# alone and goes with its last process, even if ctest kills it at its timeout
# before the trap below can unmount it.
if [[ -z ${DEB_INSTALL_TEST_IN_NS:-} ]]; then
  exec unshare --mount --propagation private env DEB_INSTALL_TEST_IN_NS=1 "$0" "$@"
fi
src=$1
build=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg-shlibdeps debootstrap chroot findmnt; do
  command -v "$tool" >/dev/null || fail "$tool missing (scripts/setup.sh installs it)"
done
start=$SECONDS
tarball=$("$src/scripts/bookworm-root.sh") || fail "no fresh root (scripts/bookworm-root.sh)"
echo "fresh root: $tarball (ready after $((SECONDS - start))s)"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/deb_install_test.XXXXXX")
root=$work/root
# Whatever happens: what is mounted in the root is unmounted first, and rm
# never leaves this file system, so a mount left behind cannot take the
# host's files with it.
cleanup() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$work/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
# The commands inside the root, with its own tools and a clean environment.
in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
# A command inside the root whose output is kept in LOG, shown if it fails.
logged() {
  local log=$work/$1.log; shift
  in_root "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
}

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/out/matchsync_*.deb)
version=$(dpkg-deb -f "$deb" Version)
echo "package: $(basename "$deb"), Depends: $(dpkg-deb -f "$deb" Depends)"

t=$SECONDS
mkdir "$root"
tar --numeric-owner -xpf "$tarball" -C "$root"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"   # apt inside resolves names as here
# As in any chroot install: no maintainer script may start a service here.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
echo "root unpacked in $((SECONDS - t))s"

# --- dpkg -i, then apt-get -f install ---------------------------------------
t=$SECONDS
logged apt-update apt-get update -q || fail "apt-get update in the fresh root"
if in_root dpkg -i "/tmp/$(basename "$deb")" >"$work/dpkg-i.log" 2>&1; then
  fail "dpkg -i succeeded in a fresh root: its dependencies were expected missing"
fi
grep -q "dependency problems" "$work/dpkg-i.log" ||
  { cat "$work/dpkg-i.log" >&2; fail "dpkg -i failed for another reason than dependencies"; }
# Recommends (postgresql) left out: the package does not set a database up,
# and PostgreSQL's postinst would make a cluster in the root.
logged apt-f-install apt-get -f install -y -q --no-install-recommends ||
  fail "apt-get -f install did not complete the install"
echo "dpkg -i + apt-get -f install: $((SECONDS - t))s; it installed:" \
  $(sed -n 's/^Setting up \([^: ]*\).*/\1/p' "$work/apt-f-install.log" | sort)

status=$(in_root dpkg-query -W -f='${Status} ${Version}' matchsync) ||
  fail "dpkg-query does not know matchsync"
[[ $status == "install ok installed $version" ]] || fail "dpkg status: '$status'"
for lib in libcaf-core0.17 libcaf-io0.17 libpqxx-6.4 libssl3; do
  in_root dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "install ok installed" ||
    fail "apt-get -f install did not install $lib"
done

# --- what the install left ---------------------------------------------------
out=$(in_root matchsync --version 2>&1) || fail "matchsync --version inside the root: $out"
echo "--version: $out"
[[ $out =~ ^matchsync\ ${version//./\\.}\ \(commit\ [0-9a-f]{7,}(-dirty)?\)$ ]] ||
  fail "--version printed '$out', the package is $version"
user=$(in_root getent passwd matchsync) || fail "no user matchsync"
IFS=: read -r _ _ uid _ _ home shell <<<"$user"
((uid < 1000)) || fail "matchsync is not a system user: $user"
[[ $home == /nonexistent && $shell == /usr/sbin/nologin ]] || fail "matchsync can log in: $user"
in_root getent group matchsync >/dev/null || fail "no group matchsync"
[[ $(in_root stat -c '%U:%G %a' /etc/matchsync) == "root:matchsync 750" ]] ||
  fail "/etc/matchsync is $(in_root stat -c '%U:%G %a' /etc/matchsync)"
for unit in matchsync matchsync-worker; do
  [[ -f $root/usr/lib/systemd/system/$unit.service ]] || fail "$unit.service not installed"
done
! find "$root/etc/systemd" -name 'matchsync*' 2>/dev/null | grep -q . ||
  fail "the install enabled a unit: $(find "$root/etc/systemd" -name 'matchsync*')"

# --- the units, with the root's own systemd ----------------------------------
# A minbase root has no systemd (a server has): installed now, once the
# dependencies above are checked (it would have brought libssl3 along), with
# man-db for the man page the units name.
t=$SECONDS
logged apt-systemd apt-get install -y -q --no-install-recommends systemd man-db ||
  fail "apt-get install systemd in the root"
echo "systemd installed in the root in $((SECONDS - t))s"
# Offline (a chroot): the state comes from the links in the root's /etc.
for unit in matchsync matchsync-worker; do
  state=$(in_root systemctl is-enabled "$unit.service" 2>&1) || true
  [[ $state == disabled ]] || fail "$unit.service is '$state' after the install"
done
# The README's `systemctl enable` works on them (an [Install] section), and
# the purge below must take the links away.
for unit in matchsync matchsync-worker; do
  logged enable systemctl enable "$unit.service" || fail "systemctl enable $unit.service"
  state=$(in_root systemctl is-enabled "$unit.service" 2>&1) || true
  [[ $state == enabled ]] || fail "$unit.service is '$state' after systemctl enable"
done
"$(dirname "$0")/verify_units.sh" "$root"

# --- dpkg --purge --------------------------------------------------------------
logged purge dpkg --purge matchsync || fail "dpkg --purge matchsync"
status=$(in_root dpkg-query -W -f='${Status}' matchsync 2>/dev/null) || true
[[ -z $status || $status == "unknown ok not-installed" ]] || fail "after the purge: '$status'"
for f in /usr/bin/matchsync /etc/matchsync /usr/share/matchsync \
         /usr/lib/systemd/system/matchsync.service /usr/lib/systemd/system/matchsync-worker.service; do
  [[ ! -e $root$f ]] || fail "$f is left after the purge"
done
! find "$root/etc/systemd" -name 'matchsync*' 2>/dev/null | grep -q . ||
  fail "links left after the purge: $(find "$root/etc/systemd" -name 'matchsync*')"
echo "deb_install_test: all checks passed ($((SECONDS - start))s)"
