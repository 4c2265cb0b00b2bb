#!/usr/bin/env bash
# The one run command: installs packages, builds, starts a private PostgreSQL
# cluster in .matchsync/, migrates, and serves the dashboard with auth off on
# the built-in demo upstream. Ctrl-C stops the service and the cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
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
echo "matchsync: dashboard at http://${MATCHSYNC_HTTP_HOST:-127.0.0.1}:${MATCHSYNC_HTTP_PORT:-8080}/"
"$build/app/matchsync" serve
