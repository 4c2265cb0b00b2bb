#!/usr/bin/env bash
# The first start as a new user has it (README "Two commands"): a fresh
# Debian 12 root (`debootstrap --variant=minbase bookworm`, from
# scripts/bookworm-root.sh's cache), entered with chroot, a clean clone of
# REF in /root, then `scripts/run.sh` until it prints that the dashboard
# answers. Prints the time to the packages, to the built binary and to the
# dashboard, and the load average around it (the figure means little on a
# loaded machine). Needs root, network to the root's Debian sources and, the
# first time on a machine, debootstrap (scripts/setup.sh installs it with the
# test packages). Not a test: it takes minutes and checks no figure.
#   bench/first_start.sh [REF]      REF: a branch or commit of this clone (HEAD)
set -euo pipefail
root_dir=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:-HEAD}
[[ $(id -u) == 0 ]] || { echo "first_start: needs root" >&2; exit 1; }

tarball=$("$root_dir/scripts/bookworm-root.sh")
work=$(mktemp -d /var/tmp/matchsync-first-start.XXXXXX)
root=$work/root
runpid=
cleanup() {
  # SIGINT to run.sh's process group: it passes it to serve, then stops its
  # cluster; then everything mounted in the root is unmounted and removed.
  if [[ -n $runpid ]]; then
    kill -INT -- "-$runpid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$runpid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$runpid" 2>/dev/null || true
  fi
  for m in $(findmnt -rn -o TARGET | grep -F "$work/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

mkdir "$root"
tar --numeric-owner -xpf "$tarball" -C "$root"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# No service of a package starts inside the root.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
commit=$(git -C "$root_dir" rev-parse --verify "$ref^{commit}")
git clone -q --no-checkout "$root_dir" "$root/root/matchsync"
git -C "$root/root/matchsync" checkout -q "$commit"
mount --make-rprivate / 2>/dev/null || true
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/dev/shm" 2>/dev/null || true

echo "first_start: $commit, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
  HOME=/root DEBIAN_FRONTEND=noninteractive \
  setsid bash -c 'cd /root/matchsync && exec scripts/run.sh' >"$work/run.log" 2>&1 &
runpid=$!
t0=$SECONDS
seen_packages= seen_built=
# At most 30 minutes: a loaded machine is slow, but run.sh should not hang.
while ((SECONDS - t0 < 1800)); do
  if [[ -z $seen_packages ]] && grep -q 'packages ready' "$work/run.log"; then
    seen_packages=1
    echo "first_start: packages ready at ~$((SECONDS - t0)) s"
  fi
  if [[ -z $seen_built ]] && grep -q 'Built target matchsync$' "$work/run.log"; then
    seen_built=1
    echo "first_start: built at ~$((SECONDS - t0)) s, load $(cut -d' ' -f1 /proc/loadavg)"
  fi
  grep -q 'dashboard at' "$work/run.log" && break
  kill -0 "$runpid" 2>/dev/null || break
  sleep 1
done
echo "first_start: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if ! line=$(grep 'dashboard at' "$work/run.log"); then
  echo "first_start: FAILED: no dashboard within $((SECONDS - t0)) s; run.sh's output:" >&2
  tail -40 "$work/run.log" >&2
  exit 1
fi
# run.sh's own count, from its start to the dashboard answering.
echo "first_start: $line"
