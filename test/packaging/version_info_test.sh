#!/usr/bin/env bash
# `matchsync --version`'s commit (app/version.cmake): the checkout's commit,
# "unknown" without .git (a source tarball), the configured one when given.
# Usage: version_info_test.sh SOURCE_DIR
set -euo pipefail
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gen() {  # SOURCE_DIR GIT_COMMIT -> the commit written
  cmake -DSOURCE_DIR="$1" -DOUT="$work/v.cpp" -DVERSION=9.8.7 -DGIT_COMMIT="$2" \
    -P "$src/app/version.cmake"
  grep -q 'version = "9.8.7"' "$work/v.cpp" || fail "version not written"
  sed -n 's/.*git_commit = "\(.*\)";/\1/p' "$work/v.cpp"
}
mkdir "$work/tarball"
[[ $(gen "$work/tarball" "") == unknown ]] || fail "without .git: '$(gen "$work/tarball" "")'"
[[ $(gen "$work/tarball" "1a2b3c4d") == 1a2b3c4d ]] || fail "the configured commit is not used"
[[ $(gen "$work/tarball" 'x";system("id");"') == xsystemid ]] || fail "a configured commit reached the literal unfiltered"
if command -v git >/dev/null && [[ -e "$src/.git" ]]; then
  want=$(git -C "$src" rev-parse --short=12 HEAD)
  got=$(gen "$src" "")
  [[ $got == "$want" || $got == "$want-dirty" ]] || fail "in the checkout: '$got', HEAD is $want"
fi
echo "version_info_test: all checks passed"
