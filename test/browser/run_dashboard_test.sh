#!/usr/bin/env bash
# The dashboard's browser test against the real server, as one ctest entry:
#   run_dashboard_test.sh BUILD_DIR SOURCE_DIR
# Starts a throwaway PostgreSQL (scripts/pg.sh), the fake OpenDota (slowed
# down through its control route) and `matchsync serve`, and runs
# dashboard.test.mjs with MATCHSYNC_AUTH=none (default account 537), then its
# auth-relevant scenarios with MATCHSYNC_AUTH=token and a user made by
# `matchsync user add` (account 538), then the quota-wait scenario against a
# `serve` whose daily limit is 3 (account 539). Screenshots and logs go to
# BUILD_DIR/test-output/browser/.
# Everything binds loopback on ephemeral ports; everything started here is
# stopped on exit, whatever the outcome.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build=$(realpath "$1")
src=$(realpath "$2")
here="$src/test/browser"
matchsync="$build/app/matchsync"
fake="$build/test/fake_opendota/fake_opendota"
chromium=${MATCHSYNC_CHROMIUM:-/usr/bin/chromium}
out="$build/test-output/browser"
# Latency of every fake upstream answer while a scenario wants a slow sync:
# a full sync of account 537 then runs about 20 s (four details are fetched
# at a time), long enough to see it move between two status polls (2 s apart
# when the event stream is down) on a loaded machine.
latency_ms=${MATCHSYNC_TEST_LATENCY_MS:-120}
startup_s=30

die() { echo "run_dashboard_test: $*" >&2; exit 1; }

# --- prerequisites: fail with a clear message, never download a browser ---
source "$here/node_prerequisites.sh"
for bin in "$matchsync" "$fake"; do
  [[ -x "$bin" ]] || die "$bin is not built: run cmake --build $build (the default target builds it)"
done

rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d "$build/browser-test.XXXXXX")
pg_dir="$work/pg"
serve_pid=''
fake_pid=''
node_pid=''

stop_pid() {
  local pid=$1
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$node_pid" ]]; then
    kill -TERM -- "-$node_pid" 2>/dev/null || true   # node, its test process, chromium
    stop_pid "$node_pid"
    kill -KILL -- "-$node_pid" 2>/dev/null || true
  fi
  stop_pid "$serve_pid"
  stop_pid "$fake_pid"
  "$src/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE REGEX PID WHAT: polls FILE until a line matches REGEX;
# fails when PID exits first or after $startup_s seconds.
wait_for_line() {
  local file=$1 regex=$2 pid=$3 what=$4
  local deadline=$((SECONDS + startup_s))
  until grep -qE "$regex" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run_dashboard_test: $what exited before it was ready; its output:" >&2
      cat "$file" >&2 || true
      return 1
    fi
    if (( SECONDS >= deadline )); then
      echo "run_dashboard_test: $what not ready within ${startup_s} s; its output:" >&2
      cat "$file" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

# --- PostgreSQL, schema ---
pg_url=$("$src/scripts/pg.sh" start "$pg_dir" --throwaway | tail -n 1)
export MATCHSYNC_DATABASE_URL="$pg_url"
"$matchsync" migrate >"$out/migrate.log" 2>&1 || { cat "$out/migrate.log" >&2; die "matchsync migrate failed"; }

# --- the fake OpenDota ---
"$fake" --die-with-parent --threads 256 >"$out/fake_opendota.log" 2>&1 &
fake_pid=$!
wait_for_line "$out/fake_opendota.log" '^listening on [0-9]+' "$fake_pid" fake_opendota
fake_port=$(grep -m1 -oE '^listening on [0-9]+' "$out/fake_opendota.log" | grep -oE '[0-9]+$')
fake_url="http://127.0.0.1:$fake_port"
set_latency() {
  node -e '
    fetch(process.argv[1] + "/_control/latency", { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ fixed_ms: Number(process.argv[2]), jitter_ms: 0 }) })
      .then(async (r) => { if (!r.ok) { console.error(r.status, await r.text()); process.exit(1); } })
      .catch((e) => { console.error(e.message); process.exit(1); });' "$fake_url" "$1"
}
set_latency "$latency_ms" || die "the fake refused POST /_control/latency"

# start_serve LOG [env...]: starts `matchsync serve`, sets serve_url.
start_serve() {
  local log=$1; shift
  # The caller's settings last: they override these defaults.
  env MATCHSYNC_HTTP_HOST=127.0.0.1 MATCHSYNC_HTTP_PORT=0 \
    MATCHSYNC_UPSTREAM_URL="$fake_url" MATCHSYNC_UPSTREAM_RATE_PER_MINUTE=0 MATCHSYNC_UPSTREAM_DAILY_LIMIT=0 \
    "$@" setpriv --pdeathsig TERM -- "$matchsync" serve >"$log" 2>&1 &
  serve_pid=$!
  wait_for_line "$log" 'listening url=http://127\.0\.0\.1:[0-9]+' "$serve_pid" "matchsync serve"
  serve_url=$(grep -m1 -oE 'listening url=http://127\.0\.0\.1:[0-9]+' "$log" | sed 's/^listening url=//')
}

# run_scenarios NAME PATTERN [env...]: runs the scenarios of dashboard.test.mjs
# whose names match PATTERN (all when empty); returns node's status.
run_scenarios() {
  local name=$1 pattern=$2; shift 2
  local select=()
  [[ -z "$pattern" ]] || select=(--test-name-pattern="$pattern")
  echo "run_dashboard_test: scenarios with auth $name${pattern:+ matching /$pattern/} against $serve_url"
  # In the background and waited for, so a signal reaches the trap at once; in
  # a process group of its own (setsid) so cleanup stops chromium with it.
  (cd "$here" && exec env "$@" MATCHSYNC_DASHBOARD_URL="$serve_url" FAKE_OPENDOTA_URL="$fake_url" \
     MATCHSYNC_TEST_LATENCY_MS="$latency_ms" MATCHSYNC_CHROMIUM="$chromium" \
     MATCHSYNC_TEST_OUTPUT_DIR="$out/auth-$name" MATCHSYNC_TEST_WAIT_MS="${MATCHSYNC_TEST_WAIT_MS:-20000}" \
     setsid setpriv --pdeathsig TERM -- node --test --test-reporter=spec "${select[@]}" dashboard.test.mjs) &
  node_pid=$!
  local rc=0
  wait "$node_pid" || rc=$?
  node_pid=''
  return "$rc"
}

# With auth on, every scenario too: each request of the page must carry the
# header, and a scenario left out is a request path never seen with it.
# MATCHSYNC_BROWSER_TOKEN_SCENARIOS='token|full sync' runs only those where
# the token matters most (the prompt, a full sync), for a quicker local run.
token_scenarios=${MATCHSYNC_BROWSER_TOKEN_SCENARIOS-}

failed=0
start=$SECONDS

# --- auth none: requests act as the default account's user ---
start_serve "$out/serve-auth-none.log" MATCHSYNC_AUTH=none MATCHSYNC_DEFAULT_ACCOUNT_ID=537
run_scenarios none '' MATCHSYNC_TOKEN= || failed=1
stop_pid "$serve_pid"; serve_pid=''

# --- auth token: a user of its own, asked for by the page ---
"$matchsync" user add --account-id 538 --name browser-test >"$work/user-add.out" 2>"$work/user-add.err" \
  || { cat "$work/user-add.out" "$work/user-add.err" >&2; die "matchsync user add failed"; }
token=$(tail -n 1 "$work/user-add.out" | tr -d '[:space:]')
[[ -n "$token" ]] || die "matchsync user add printed no token"
set_latency "$latency_ms" || die "the fake refused POST /_control/latency"
start_serve "$out/serve-auth-token.log" MATCHSYNC_AUTH=token
run_scenarios token "$token_scenarios" MATCHSYNC_TOKEN="$token" || failed=1
stop_pid "$serve_pid"; serve_pid=''

# --- a daily quota of 3 requests (issue 15): the page says in words when the
# sync goes on. The day starts 12 hours from the current UTC hour, so the wait
# outlasts the scenario whenever it runs. ---
set_latency 0 || die "the fake refused POST /_control/latency"
quota_day_start=$(printf '%02d:00' $(( (10#$(date -u +%H) + 12) % 24 )))
start_serve "$out/serve-quota.log" MATCHSYNC_AUTH=none MATCHSYNC_DEFAULT_ACCOUNT_ID=539 \
  MATCHSYNC_UPSTREAM_DAILY_LIMIT=3 MATCHSYNC_UPSTREAM_DAY_START_UTC="$quota_day_start"
run_scenarios quota 'daily quota' MATCHSYNC_TOKEN= MATCHSYNC_TEST_QUOTA_WAIT=1 || failed=1

echo "run_dashboard_test: scenarios took $((SECONDS - start)) s; screenshots and logs in $out"
if (( failed )); then
  echo "run_dashboard_test: FAILED (see the node test output above and the logs in $out)" >&2
  exit 1
fi
echo "run_dashboard_test: passed"
