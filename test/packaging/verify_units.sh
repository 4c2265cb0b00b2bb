#!/usr/bin/env bash
# systemd-analyze verify of both matchsync units as installed in ROOT, by
# ROOT's own systemd when it has one (deb_install_test installs systemd into
# its fresh root), else by this machine's with --root (deb_test's unpacked
# .deb; ROOT is a throwaway copy that gets systemd's own units, sysinit.target
# and the rest, beside ours, which verify needs; MANPATH finds the man page
# the units name). Any output is a finding (an unknown key or a bad value is
# only a warning, exit 0). Prints which systemd-analyze ran.
# Usage: verify_units.sh ROOT
set -euo pipefail
root=$1
if [[ -x $root/usr/bin/systemd-analyze ]]; then
  which="the root's own"
  analyze() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
      systemd-analyze "$@"
  }
else
  which="this machine's, --root"
  cp -rn /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
  analyze() {
    local cmd=$1; shift
    MANPATH=$root/usr/share/man systemd-analyze "$cmd" --root="$root" "$@"
  }
fi
for unit in matchsync matchsync-worker; do
  out=$(analyze verify "/usr/lib/systemd/system/$unit.service" 2>&1) ||
    { echo "FAIL: systemd-analyze verify $unit.service failed: $out" >&2; exit 1; }
  [[ -z $out ]] || { echo "FAIL: systemd-analyze verify $unit.service: $out" >&2; exit 1; }
done
echo "systemd-analyze verify ($which, $(analyze --version | head -n 1)): both units accepted"
