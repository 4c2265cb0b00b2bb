#!/usr/bin/env bash
# Builds matchsync with a sanitizer and runs tests on it; exits non-zero on a
# failed test or on any sanitizer report, of a test or of a process a test
# started (matchsync, fake_opendota). Usage:
#   scripts/sanitize.sh asan [CTEST_ARGS...]  ASan+UBSan, every test (build-asan/)
#   scripts/sanitize.sh tsan [CTEST_ARGS...]  TSan, every test (build-tsan/), against a
#                                             TSan CAF (scripts/caf-tsan.sh)
# MATCHSYNC_SANITIZE_STEP=build only builds (and checks what tsan links),
# =test only runs the tests of a finished build: scripts/test.sh builds one
# while the tests of another run.
# Packages must be installed (scripts/setup.sh). Reports are kept in
# BUILD/sanitizer-reports/ (one file per process: KIND.PID). Suppressions
# live in test/sanitizers/, each with the library bug it hides.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:?usage: sanitize.sh asan|tsan [ctest args...]}
shift
step=${MATCHSYNC_SANITIZE_STEP:-all}

case "$kind" in
  asan)
    build=${MATCHSYNC_ASAN_BUILD_DIR:-$root/build-asan}
    options=(-DMATCHSYNC_ASAN=ON)
    ;;
  tsan)
    build=${MATCHSYNC_TSAN_BUILD_DIR:-$root/build-tsan}
    # Debian's libcaf is not instrumented: a message handed from one actor to
    # another synchronises inside it, invisible to TSan, which would report
    # every message. The TSan build links a CAF built with -fsanitize=thread
    # from Debian's source (scripts/caf-tsan.sh, cached outside the clone).
    if [[ $step != test ]]; then
      caf=$("$root/scripts/caf-tsan.sh")
      # httplib likewise: Debian's libcpp-httplib is not instrumented, so
      # its own single header is compiled in (scripts/httplib-tsan.sh).
      httplib=$("$root/scripts/httplib-tsan.sh")
      options=(-DMATCHSYNC_TSAN=ON "-DMATCHSYNC_CAF_PREFIX=$caf"
               "-DMATCHSYNC_HTTPLIB_HEADER_DIR=$httplib/include")
    fi
    ;;
  *)
    echo "usage: sanitize.sh asan|tsan [ctest args...]" >&2
    exit 2
    ;;
esac

reports=$build/sanitizer-reports
supp=$root/test/sanitizers
# Every report aborts its process (halt_on_error; compiled with
# -fno-sanitize-recover=all) except TSan's, which go on so that one run lists
# every race; a TSan report still makes its process exit 66. All reports go
# to files, so that those of child processes are seen too.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1:suppressions=$supp/asan.supp:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp:log_path=$reports/ubsan"
export TSAN_OPTIONS="halt_on_error=0:exitcode=66:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0:log_path=$reports/tsan"

if [[ $step != test ]]; then
  start=$SECONDS
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${options[@]}" >/dev/null
  cmake --build "$build" -j 2
  echo "== $kind build: $((SECONDS - start))s"

  # Every executable of the build (the suites and the binaries they start:
  # matchsync, fake_opendota) must load the cached TSan CAF, not the system's
  # of the same soname (ldd follows the executable's RUNPATH as the loader does).
  if [[ $kind == tsan ]]; then
    checked=0 wrong=0
    while IFS= read -r exe; do
      [[ $(head -c 4 "$exe") == $'\x7fELF' ]] || continue
      libs=$(ldd "$exe")
      # Nor Debian's uninstrumented httplib: its code is compiled in.
      if grep -q 'libcpp-httplib' <<<"$libs"; then
        echo "sanitize tsan: $exe loads Debian's libcpp-httplib" >&2
        wrong=1
      fi
      cafs=$(grep 'libcaf_' <<<"$libs" || true)
      [[ -n $cafs ]] || continue
      checked=$((checked + 1))
      if grep -qv "=> $caf/lib/" <<<"$cafs"; then
        echo "sanitize tsan: $exe loads a CAF outside $caf:" >&2
        echo "$cafs" >&2
        wrong=1
      fi
    done < <(find "$build" -path '*/CMakeFiles' -prune -o -type f -perm -u+x -print)
    if ((wrong || checked == 0)); then
      echo "sanitize tsan: FAILED: not every executable ($checked checked) loads the TSan CAF and no libcpp-httplib" >&2
      exit 1
    fi
    echo "== tsan: all $checked executables load CAF from $caf, none libcpp-httplib"
  fi
fi
[[ $step != build ]] || exit 0

rm -rf "$reports"
mkdir -p "$reports"
start=$SECONDS
set +e
# Label node: the browser tests that run no C++ of ours (page logic, the
# stand-in API) would check nothing more under a sanitizer. Label package:
# the .deb tests, which check the plain build's package.
(cd "$build" && "$root/scripts/ctest-clean.sh" --output-on-failure -j 2 -LE '^(node|package)$' "$@")
rc=$?
set -e
echo "== $kind tests: $((SECONDS - start))s"

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  for f in "${found[@]}"; do
    echo "---- $f"
    cat "$f"
  done
  echo "sanitize $kind: FAILED: ${#found[@]} sanitizer report(s) in $reports (above)"
  exit 1
fi
if ((rc != 0)); then
  echo "sanitize $kind: FAILED: tests failed"
  exit "$rc"
fi
echo "sanitize $kind: all tests passed without a sanitizer report"
