#!/usr/bin/env bash
# The one run command: installs what building and running need (not the
# tests' packages), builds the binary alone, starts the private PostgreSQL
# cluster in .matchsync/ (durable, reachable only by this OS user: see
# scripts/pg.sh), migrates, and serves the dashboard with auth off on the
# built-in demo upstream. Prints how long it took until the dashboard
# answered. Ctrl-C stops the service and the cluster.
set -euo pipefail
start=$SECONDS
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" --run
"$root/scripts/build.sh" matchsync
build=${MATCHSYNC_BUILD_DIR:-$root/build}
pgdir=${MATCHSYNC_PG_DIR:-$root/.matchsync/pg}
url=$("$root/scripts/pg.sh" start "$pgdir")
trap '"$root/scripts/pg.sh" stop "$pgdir"' EXIT

export MATCHSYNC_DATABASE_URL="$url"
export MATCHSYNC_AUTH=${MATCHSYNC_AUTH:-none}
export MATCHSYNC_DEFAULT_ACCOUNT_ID=${MATCHSYNC_DEFAULT_ACCOUNT_ID:-86745912}
export MATCHSYNC_UPSTREAM_URL=${MATCHSYNC_UPSTREAM_URL:-demo}
export MATCHSYNC_UPSTREAM_RATE_PER_MINUTE=${MATCHSYNC_UPSTREAM_RATE_PER_MINUTE:-0}
# The demo upstream has no daily cap of its own.
export MATCHSYNC_UPSTREAM_DAILY_LIMIT=${MATCHSYNC_UPSTREAM_DAILY_LIMIT:-0}
"$build/app/matchsync" migrate
host=${MATCHSYNC_HTTP_HOST:-127.0.0.1}
port=${MATCHSYNC_HTTP_PORT:-8080}
# In the background so that this script can tell when the dashboard answers;
# a background job of a script ignores Ctrl-C, so the signal is passed on.
"$build/app/matchsync" serve &
serve=$!
trap 'kill -TERM "$serve" 2>/dev/null || true' INT TERM
for _ in $(seq 600); do
  if curl -fsS -o /dev/null "http://$host:$port/"; then
    echo "matchsync: dashboard at http://$host:$port/ (answering $((SECONDS - start)) s after scripts/run.sh started)"
    break
  fi
  kill -0 "$serve" 2>/dev/null || break
  sleep 0.1
done
# wait returns early when a trapped signal arrives; wait again for the stop.
status=0
wait "$serve" || status=$?
if kill -0 "$serve" 2>/dev/null; then wait "$serve" || status=$?; fi
exit "$status"
