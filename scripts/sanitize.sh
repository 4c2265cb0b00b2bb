#!/usr/bin/env bash
# Builds matchsync with a sanitizer and runs tests on it; exits non-zero on a
# failed test or on any sanitizer report, of a test or of a process a test
# started (matchsync, fake_opendota). Usage:
#   scripts/sanitize.sh asan [CTEST_ARGS...]  ASan+UBSan, every test (build-asan/)
#   scripts/sanitize.sh tsan [CTEST_ARGS...]  TSan, the concurrency suites (build-tsan/;
#                                             MATCHSYNC_TSAN_ALL=1: also actors/HTTP/cluster)
# Packages must be installed (scripts/setup.sh). Reports are kept in
# BUILD/sanitizer-reports/ (one file per process: KIND.PID). Suppressions
# live in test/sanitizers/, each with the library bug it hides.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:?usage: sanitize.sh asan|tsan [ctest args...]}
shift

# The suites where threads meet. One name is the executable target and its
# ctest entry. Debian's libcaf_core/libcaf_io are not instrumented: a message
# handed from one actor to another synchronises inside them, so TSan reports
# every message (thousands per suite) until CAF itself is built with
# -fsanitize=thread. Until then the default set is the suites that do not
# pass data through CAF; MATCHSYNC_TSAN_ALL=1 adds the actor, HTTP and
# cluster suites.
tsan_suites=(
  event_bus_test http_units_test metrics_test
  upstream_cancel_token_test upstream_http_client_test
  upstream_rate_budget_http_test
)
if [[ "${MATCHSYNC_TSAN_ALL:-0}" == 1 ]]; then
  tsan_suites+=(coordinator_pgtest serve_process_pgtest cluster_pgtest
                http_api_pgtest http_events_pgtest http_fuzz_pgtest)
fi

case "$kind" in
  asan)
    build=${MATCHSYNC_ASAN_BUILD_DIR:-$root/build-asan}
    option=-DMATCHSYNC_ASAN=ON
    targets=(all)
    selection=()
    ;;
  tsan)
    build=${MATCHSYNC_TSAN_BUILD_DIR:-$root/build-tsan}
    option=-DMATCHSYNC_TSAN=ON
    # The suites and the binaries they start (`matchsync` and
    # `fake_opendota` are their dependencies).
    targets=("${tsan_suites[@]}")
    regex=$(IFS='|'; echo "${tsan_suites[*]}")
    selection=(-R "^(${regex})\$")
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

start=$SECONDS
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$option" >/dev/null
cmake --build "$build" -j 2 $(printf -- '--target %s ' "${targets[@]}")
echo "== $kind build: $((SECONDS - start))s"

rm -rf "$reports"
mkdir -p "$reports"
start=$SECONDS
set +e
(cd "$build" && "$root/scripts/ctest-clean.sh" --output-on-failure -j 2 "${selection[@]}" "$@")
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
