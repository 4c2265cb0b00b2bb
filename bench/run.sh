#!/usr/bin/env bash
# Runs every benchmark against a private PostgreSQL cluster of its own (in a
# temporary directory, stopped and removed at the end) and prints a table of
# the RESULT lines. Programs come from BUILD_DIR/bench (default build/).
#
#   bench/run.sh [--build] [--quick] [--fsync on|off] [NAME...]
#
#   --build      build the `benchmarks` target first (cmake --build -j2)
#   --quick      smaller sizes (a smoke run, about a minute)
#   --fsync      the cluster's fsync and synchronous_commit (default on, as
#                in production; scripts/pg.sh uses off for tests)
#   NAME         run only these: ingest incremental cancel many_jobs dispatch
#                http (bench_http.sh: a real `serve` driven by wrk)
#                cluster front_door quota (bench_quota: 10 whole clock minutes
#                at 60/min against the fake's limiter, ~12 min; --quick: 2)
#                fairness (bench_cluster --part fairness: 1 full sync on one
#                worker against 15 on another, 5 min at 60/min; --quick: 1)
#
# The cluster is started like scripts/pg.sh does, but with max_connections
# 1100: bench_many_jobs opens one connection per slot (see README.md).
# Everything listens on loopback only.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
bin=/usr/lib/postgresql/15/bin
quick=0 do_build=0 fsync=on only=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) do_build=1 ;;
    --quick) quick=1 ;;
    --fsync) fsync=${2:?--fsync on|off}; shift ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) only+=("$1") ;;
  esac
  shift
done
wanted() { [[ ${#only[@]} -eq 0 ]] || [[ " ${only[*]} " == *" $1 "* ]]; }

if [[ $do_build == 1 ]]; then
  cmake -S "$root" -B "$build" -DMATCHSYNC_BENCH=ON >/dev/null
  cmake --build "$build" -j2 --target benchmarks
fi
for b in bench_ingest bench_incremental bench_cancel bench_many_jobs bench_dispatch bench_cluster \
    bench_front_door bench_quota; do
  wanted "${b#bench_}" || { [[ $b == bench_cluster ]] && wanted fairness; } || continue
  [[ -x "$build/bench/$b" ]] || { echo "run.sh: $build/bench/$b missing: use --build" >&2; exit 2; }
done

as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tmp=$(mktemp -d /tmp/matchsync-bench.XXXXXX)
chmod 755 "$tmp"
pgdir="$tmp/pg"
mkdir -p "$pgdir"
[[ $(id -u) == 0 ]] && chown postgres:postgres "$pgdir"
stop_cluster() {
  as_postgres "$bin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1 || true
}
cleanup() {
  stop_cluster
  if [[ -n "${KEEP_BENCH_LOGS:-}" ]]; then echo "logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

as_postgres "$bin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 \
  --locale=C.UTF-8 --no-sync --no-instructions >"$pgdir/initdb.log" 2>&1
started=0
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 30000))
  port_free "$port" || continue
  if as_postgres "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -t 60 \
       -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=1100 \
           -c fsync=$fsync -c synchronous_commit=$fsync" start >/dev/null 2>&1; then
    started=1; break
  fi
done
[[ $started == 1 ]] || { echo "run.sh: PostgreSQL did not start, see $pgdir/log" >&2; cat "$pgdir/log" >&2; exit 1; }
as_postgres "$bin/createdb" -h "$pgdir" -p "$port" matchsync
export MATCHSYNC_BENCH_PG_URL="host=$pgdir port=$port user=postgres dbname=matchsync"

results="$tmp/results"
: >"$results"
failed=()
run() {  # run NAME LOGNAME ARGS...: one process; RESULT lines go to the table
  local name=$1 log=$2; shift 2
  echo "== $name $*" >&2
  local before
  before=$(wc -l <"$pgdir/log")
  if timeout 1200 "$build/bench/$name" "$@" >"$tmp/$log.out" 2>"$tmp/$log.err"; then :; else
    echo "run.sh: $name $* failed (exit $?):" >&2; tail -20 "$tmp/$log.err" >&2
    failed+=("$name $*")
  fi
  grep -E '^(RESULT|NOTE) ' "$tmp/$log.out" >>"$results" || true
  # Backends whose client gave up on them (e.g. a connect that timed out).
  local lost
  lost=$(tail -n +"$((before + 1))" "$pgdir/log" | grep -c 'connection to client lost' || true)
  echo "RESULT ${name#bench_} pg_log_client_lost_${log} $lost backends" >>"$results"
  quiesce
}
# Waits (at most 3 min) until the cluster is quiet: no client backends and a
# log that stopped growing, so one benchmark's leftovers (e.g. connection
# attempts still queued at the postmaster) do not land in the next one.
quiesce() {
  local i size last=-1
  for i in $(seq 1 180); do
    size=$(wc -c <"$pgdir/log")
    if [[ $size == "$last" ]] && [[ $(psql "$MATCHSYNC_BENCH_PG_URL" -Atc \
         "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
          AND pid <> pg_backend_pid()") == 0 ]]; then
      return 0
    fi
    last=$size
    sleep 1
  done
  echo "run.sh: the cluster did not quiet down within 3 minutes" >&2
}

if [[ $quick == 1 ]]; then
  sizes=(200 1000) bd=(--breakdown 1 --breakdown-count 300)
  inc=(--stored 2000 --rounds 3) can=(--cancels 20 --background 10)
  many=(--jobs 100 --measure-s 5) dis=(--jobs 20) clu=(--jobs 20 --cancels 10)
  fd=(--duration 5)
  quo=(--minutes 2 --matches 1000) fair=(--seconds 60)
else
  sizes=(1000 10000) bd=(--breakdown 1 --breakdown-count 1000)
  inc=() can=() many=() dis=() clu=() fd=() quo=() fair=()
fi
if wanted ingest; then
  # A fresh process per size, so that VmHWM belongs to that size alone.
  run bench_ingest "ingest_${sizes[0]}" --matches "${sizes[0]}"
  run bench_ingest "ingest_${sizes[1]}" --matches "${sizes[1]}" "${bd[@]}"
fi
if wanted incremental; then run bench_incremental incremental "${inc[@]}"; fi
if wanted cancel; then run bench_cancel cancel "${can[@]}"; fi
if wanted many_jobs; then run bench_many_jobs many_jobs "${many[@]}"; fi
if wanted dispatch; then run bench_dispatch dispatch "${dis[@]}"; fi
if wanted http; then
  # A script, not a program: it starts `matchsync serve` and drives it with wrk.
  [[ $do_build == 1 ]] && cmake --build "$build" -j2 --target matchsync >/dev/null
  echo "== bench_http.sh" >&2
  http_args=(); [[ $quick == 1 ]] && http_args=(--duration 5)
  if BUILD_DIR=$build timeout 600 "$root/bench/bench_http.sh" "${http_args[@]}" \
       >"$tmp/http.out" 2>"$tmp/http.err"; then :; else
    echo "run.sh: bench_http.sh failed:" >&2; tail -20 "$tmp/http.err" >&2
    failed+=("bench_http.sh")
  fi
  grep -E '^(RESULT|NOTE) ' "$tmp/http.out" >>"$results" || true
  quiesce
fi
if wanted cluster; then run bench_cluster cluster "${clu[@]}"; fi
if wanted fairness; then run bench_cluster fairness --part fairness "${fair[@]}"; fi
if wanted front_door; then run bench_front_door front_door "${fd[@]}"; fi
if wanted quota; then run bench_quota quota "${quo[@]}"; fi

echo
echo "matchsync benchmarks — $(nproc) cores, PostgreSQL fsync=$fsync, $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-12s %-44s %14s  %s\n' bench metric value unit
printf '%-12s %-44s %14s  %s\n' ----- ------ ----- ----
awk '$1 == "RESULT" { printf "%-12s %-44s %14s  %s\n", $2, $3, $4, $5 }' "$results"
grep '^NOTE ' "$results" | cut -d' ' -f2- | sed 's/^/note: /' || true
if [[ ${#failed[@]} -gt 0 ]]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
