#!/usr/bin/env bash
# The .deb (README "Installing on a server"): CPack builds it from this build
# tree; its dependencies are Debian package names; it unpacks into a scratch
# root where `matchsync --version` runs and systemd-analyze verify accepts
# both units without a word; its postinst creates the system user and
# enables or starts nothing.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool missing (scripts/setup.sh installs it)"
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/out/matchsync_*.deb)
echo "package: $deb ($(du -h "$deb" | cut -f1))"

# --- dependencies: Debian's names, each a package this system knows --------
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for want in libcaf-core0.17 libcaf-io0.17 libpqxx-6.4 libsystemd0 libssl3 adduser; do
  grep -qE "(^|, )$want( |,|$)" <<<"$depends" || fail "Depends lacks $want"
done
IFS=',' read -ra items <<<"$depends"
for item in "${items[@]}"; do
  name=$(awk '{print $1}' <<<"$item")
  dpkg-query -W "$name" >/dev/null 2>&1 || apt-cache show "$name" >/dev/null 2>&1 ||
    fail "'$name' is not a Debian package"
done

# --- contents, unpacked into a scratch root ---------------------------------
root=$work/root
dpkg -x "$deb" "$root"
for f in usr/bin/matchsync usr/share/man/man1/matchsync.1 \
         etc/matchsync/matchsync.conf.example usr/share/matchsync/static/index.html \
         usr/lib/systemd/system/matchsync.service usr/lib/systemd/system/matchsync-worker.service; do
  [[ -e "$root/$f" ]] || fail "the package lacks /$f"
done
version=$("$root/usr/bin/matchsync" --version)
echo "--version: $version"
[[ $version =~ ^matchsync\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ [0-9a-f]{7,}(-dirty)?\)$ ]] ||
  fail "--version printed '$version'"
grep -q "^ExecStart=/usr/bin/matchsync serve --config /etc/matchsync/matchsync.conf$" \
  "$root/usr/lib/systemd/system/matchsync.service" || fail "matchsync.service: ExecStart"
grep -q "^ExecStart=/usr/bin/matchsync worker --config /etc/matchsync/matchsync.conf$" \
  "$root/usr/lib/systemd/system/matchsync-worker.service" || fail "matchsync-worker.service: ExecStart"
for unit in matchsync matchsync-worker; do
  f=$root/usr/lib/systemd/system/$unit.service
  for key in Type=notify User=matchsync NoNewPrivileges=yes ProtectSystem=strict \
             PrivateTmp=yes ProtectHome=yes WantedBy=multi-user.target; do
    grep -qx "$key" "$f" || fail "$unit.service lacks $key"
  done
done

# systemd-analyze verify accepts both units without a word.
"$(dirname "$0")/verify_units.sh" "$root"

# --- maintainer scripts: postinst creates the user, enables nothing ---------
# Run against stand-ins for the commands that would change this machine; each
# records its arguments.
mkdir -p "$work/bin" "$work/ctl"
dpkg-deb -e "$deb" "$work/ctl"
for cmd in adduser chown chmod systemctl deb-systemd-helper; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$cmd" "$work/calls" >"$work/bin/$cmd"
done
printf '#!/bin/sh\nexit 2\n' >"$work/bin/getent"   # the user does not exist yet
chmod +x "$work"/bin/*
PATH=$work/bin:$PATH sh "$work/ctl/postinst" configure
cat "$work/calls"
grep -q "^adduser --system --group .*matchsync$" "$work/calls" || fail "postinst did not create the user"
! grep -qE "^systemctl .*(enable|start)|^deb-systemd-helper .*enable" "$work/calls" ||
  fail "postinst enables or starts a service"
echo "deb_test: all checks passed"
