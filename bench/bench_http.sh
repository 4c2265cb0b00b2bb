#!/usr/bin/env bash
# The HTTP front end end to end: a real `matchsync serve` (demo upstream,
# auth by token) on a database of its own, driven by wrk.
#   1. GET /sync/status with keep-alive from many connections, while the
#      user has a job running (the answer carries it) and while idle; each
#      twice: as fast as wrk can send (saturation: on 2 cores wrk and the
#      server share the CPU, and with 64 requests always in flight the
#      latency is mostly queueing), then paced, each connection waiting
#      about PACE ms between answer and request (64 / 5 ms: ~12,000 req/s
#      offered), which shows the latency at a given rate;
#   2. trigger -> cancel cycles per second for one user, one connection
#      (each cycle: a job created, queued or started, cancelled, answered).
# Prints RESULT lines as bench/run.sh expects, and NOTE lines with the load
# average around each run (other work on the machine moves the figures).
#
#   bench/bench_http.sh [--duration S] [--connections N] [--wrk-threads T]
#                       [--pace-ms PACE]
#
# Needs MATCHSYNC_BENCH_PG_URL (bench/run.sh exports it) and wrk
# (apt-get install wrk); the binary is BUILD_DIR/app/matchsync (default
# build/). Creates (drops first) the database bench_http in that cluster.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
duration=10 connections=64 wrk_threads=2 pace_ms=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=${2:?}; shift ;;
    --connections) connections=${2:?}; shift ;;
    --wrk-threads) wrk_threads=${2:?}; shift ;;
    --pace-ms) pace_ms=${2:?}; shift ;;
    -h|--help) sed -n 2,22p "$0"; exit 0 ;;
    *) echo "bench_http.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
: "${MATCHSYNC_BENCH_PG_URL:?set MATCHSYNC_BENCH_PG_URL (bench/run.sh does)}"
bin="$build/app/matchsync"
[[ -x "$bin" ]] || { echo "bench_http.sh: $bin missing: build the matchsync target" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench_http.sh: wrk missing (apt-get install wrk)" >&2; exit 2; }

# matchsync warns about MATCHSYNC_* variables it does not know: keep ours away.
cluster=$MATCHSYNC_BENCH_PG_URL
unset MATCHSYNC_BENCH_PG_URL
psql "$cluster" -qAt -c "DROP DATABASE IF EXISTS bench_http" \
  -c "CREATE DATABASE bench_http" >/dev/null 2>&1
url=$(sed -E 's/dbname=[^ ]+/dbname=bench_http/' <<<"$cluster")
[[ $url == *dbname=bench_http* ]] || url="$url dbname=bench_http"

export MATCHSYNC_DATABASE_URL="$url" MATCHSYNC_HTTP_HOST=127.0.0.1 MATCHSYNC_HTTP_PORT=0 \
  MATCHSYNC_AUTH=token MATCHSYNC_UPSTREAM_URL=demo MATCHSYNC_UPSTREAM_RATE_PER_MINUTE=60 \
  MATCHSYNC_CLUSTER_SECRET= MATCHSYNC_LOG_FORMAT=text
"$bin" migrate >/dev/null
status_token=$("$bin" user add --account-id 4001 --name status | tail -1)
cycle_token=$("$bin" user add --account-id 4002 --name cycles | tail -1)

log=$(mktemp /tmp/bench_http.XXXXXX)
"$bin" serve 2>"$log" &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
port=
for _ in $(seq 1 300); do
  port=$(grep -o 'listening url=http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $port ]] || { echo "bench_http.sh: serve did not listen within 30 s" >&2; cat "$log" >&2; exit 1; }
base="http://127.0.0.1:$port"

load() { cut -d' ' -f1-3 /proc/loadavg; }
api() {  # api METHOD PATH TOKEN: the body
  curl -sS -X "$1" -H "Authorization: Bearer $3" -H 'Content-Length: 0' "$base$2"
}
status_run() {  # status_run LABEL [PACE_MS]: as fast as wrk can, or paced
  echo "NOTE http $1: load average before $(load)"
  BENCH_TOKEN=$status_token BENCH_LABEL=$1 BENCH_PACE_MS=${2:-0} wrk -t"$wrk_threads" -c"$connections" \
    -d"${duration}s" --timeout 2s -s "$root/bench/bench_http_status.lua" "$base/sync/status" |
    grep -E '^RESULT ' || true
  echo "NOTE http $1: load average after $(load)"
}

# 1. Status while idle, then with a full sync running (at 60 upstream
#    requests a minute it outlasts the run; its progress changes meanwhile).
curl -sS -o /dev/null -H "Authorization: Bearer $status_token" "$base/sync/status"  # warm the token cache
status_run status_idle
status_run status_idle_paced "$pace_ms"
job=$(api POST /sync/trigger "$status_token" | sed -E 's/^\{"id":([0-9]+).*/\1/')
for _ in $(seq 1 100); do
  api GET /sync/status "$status_token" | grep -q '"status":"running"' && break
  sleep 0.1
done
status_run status_running
status_run status_running_paced "$pace_ms"
api POST "/sync/cancel/$job" "$status_token" >/dev/null
echo "RESULT http server_threads_after $(ls /proc/$pid/task | wc -l) threads"
echo "RESULT http db_sessions_after $(psql "$url" -qAt -c "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = 'bench_http'") sessions"

# 2. Trigger -> cancel cycles, one user, one connection.
echo "NOTE http cycles: load average before $(load)"
BENCH_TOKEN=$cycle_token wrk -t1 -c1 -d"${duration}s" --timeout 5s \
  -s "$root/bench/bench_http_cycles.lua" "$base/" | grep -E '^RESULT ' || true
echo "NOTE http cycles: load average after $(load)"
