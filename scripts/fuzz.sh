#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang into build-fuzz/ and runs
# each for SECONDS (default 20) on a copy of its seed corpus, so the
# committed corpus does not grow. Exits non-zero when any target crashes,
# naming the crashing input. Usage: scripts/fuzz.sh [SECONDS]
# MATCHSYNC_FUZZ_RUNS=N runs each target for N inputs from a fixed seed
# instead (deterministic: what CI uses, so a run cannot fail by chance).
# MATCHSYNC_FUZZ_ALLOW_BAD_UTF8=1 turns off the upstream targets' UTF-8
# check while a known violation is open (fuzz/regressions/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
build=$root/build-fuzz
targets=(fuzz_trigger_body fuzz_upstream_list fuzz_upstream_detail
         fuzz_json_check fuzz_json_repair fuzz_detail_fingerprint fuzz_retry_after
         fuzz_config)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMATCHSYNC_FUZZ=ON -DMATCHSYNC_BENCH=OFF >/dev/null
start=$SECONDS
cmake --build "$build" -j2 $(printf -- '--target %s ' "${targets[@]}")
echo "== build: $((SECONDS - start))s"

if [ -n "${MATCHSYNC_FUZZ_RUNS:-}" ]; then
  budget_text="$MATCHSYNC_FUZZ_RUNS runs each"
else
  budget_text="${seconds}s each"
fi
failed=()
for t in "${targets[@]}"; do
  work=$build/fuzz-run/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$root/fuzz/corpus/$t"/* "$work/corpus/"
  echo "== $t: $budget_text"
  # Regressions are replayed first: a fixed bug must stay fixed.
  if compgen -G "$root/fuzz/regressions/$t/*" >/dev/null; then
    if ! "$build/fuzz/$t" -runs=0 "$root/fuzz/regressions/$t"/* >"$work/regressions.log" 2>&1; then
      echo "!! $t: a regression input crashes again (log: $work/regressions.log)"
      # libFuzzer stops at the first crash: the last input it ran.
      grep -E "^Running: " "$work/regressions.log" | tail -n 1 || true
      failed+=("$t")
      continue
    fi
  fi
  set +e
  start=$SECONDS
  if [ -n "${MATCHSYNC_FUZZ_RUNS:-}" ]; then
    budget=(-runs="$MATCHSYNC_FUZZ_RUNS" -seed=1)
  else
    budget=(-max_total_time="$seconds")
  fi
  "$build/fuzz/$t" "$work/corpus" "${budget[@]}" -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" >"$work/fuzz.log" 2>&1
  rc=$?
  set -e
  echo "ran $((SECONDS - start))s"
  # The last coverage line and the final stats (the log also holds the
  # recommended dictionary).
  grep -E "^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)" "$work/fuzz.log" | tail -n 1 || true
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$work/fuzz.log" || true
  if [ $rc -ne 0 ]; then
    crash=$(ls "$work/artifacts"/* 2>/dev/null | head -n 1)
    echo "!! $t crashed (exit $rc): input ${crash:-<none written>}, log $work/fuzz.log"
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran $budget_text without a crash"
