#!/usr/bin/env bash
# The run command's embedded cluster (scripts/pg.sh start, README "The
# embedded database"), in temporary folders:
# 1. durable and private: fsync on, no TCP listener, the socket refused to
#    another OS user, the role matchsync not a superuser and owner of its
#    database, matchsync migrate works through it;
# 2. no permission changes outside DIR, also when the path is one `postgres`
#    cannot traverse (a folder of mode 0700, like /root);
# 3. a cluster made by the old script (fsync off, trust, TCP, superuser) is
#    upgraded at its first start and keeps its data.
# Usage: pg_private_test.sh SOURCE_DIR MATCHSYNC_BINARY
set -euo pipefail
# It needs root: to act as another OS user, and as root is how run.sh starts
# PostgreSQL (as `postgres`). 77 = skipped.
[[ $(id -u) == 0 ]] || { echo "pg_private_test: needs root, skipped"; exit 77; }
src=$1
matchsync=$2
pg="$src/scripts/pg.sh"
other=nobody
fail() { echo "FAIL: $*" >&2; exit 1; }

dirs=()
cleanup() {
  for d in "${dirs[@]}"; do
    "$pg" stop "$d/.matchsync/pg" >/dev/null 2>&1 || true
    rm -rf "$d"
  done
}
trap cleanup EXIT

sql() { psql "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
postmaster_pid() { head -1 "$1/data/postmaster.pid"; }

# --- 1. a fresh cluster in a folder every user may traverse ----------------
top=$(mktemp -d); dirs+=("$top"); chmod 755 "$top"
dir=$top/.matchsync/pg
url=$("$pg" start "$dir")
echo "url: $url"
[[ $url == *"user=matchsync"* ]] || fail "the connection string does not use the role matchsync: $url"
[[ $(sql "$url" "SHOW fsync") == on ]] || fail "fsync is not on"
[[ $(sql "$url" "SHOW listen_addresses") == "" ]] || fail "listen_addresses is not empty"
pid=$(postmaster_pid "$dir")
# No TCP socket of this postmaster (any of its processes) is listening.
if ss -ltnp | grep -q "pid=$pid,"; then
  ss -ltnp | grep "pid=$pid," >&2
  fail "the cluster listens on TCP"
fi
[[ $(sql "$url" "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == f ]] ||
  fail "the role is a superuser"
[[ $(sql "$url" "SELECT rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user") == f ]] ||
  fail "the role may create roles or databases"
[[ $(sql "$url" "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'matchsync'") == matchsync ]] ||
  fail "matchsync does not own its database"
# Another OS user: neither as matchsync nor as the superuser, by the socket.
for role in matchsync postgres; do
  if runuser -u "$other" -- psql "host=$dir/run port=5432 user=$role dbname=matchsync" \
       -XAtc "SELECT 1" >/dev/null 2>&1; then
    fail "OS user $other connected as $role"
  fi
done
[[ $(stat -c %a "$dir") == 700 && $(stat -c %a "$dir/run") == 700 ]] ||
  fail "DIR or its socket folder is not 0700"
MATCHSYNC_DATABASE_URL=$url "$matchsync" migrate >/dev/null || fail "matchsync migrate failed"
[[ $(sql "$url" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'matchsync'") == 0 ]] ||
  fail "migrations made tables matchsync does not own"
# A second start while running answers the same URL.
[[ $("$pg" start "$dir") == "$url" ]] || fail "a second start changed the URL"
"$pg" stop "$dir"
# Data survives a restart.
url=$("$pg" start "$dir")
[[ $(sql "$url" "SELECT count(*) > 0 FROM schema_migrations") == t ]] || fail "data lost across a restart"
"$pg" stop "$dir"

# --- 2. a folder `postgres` cannot traverse: no permission changes ---------
top=$(mktemp -d); dirs+=("$top")   # 0700, root's
before=$(stat -c '%a %U' "$top" / /tmp)
url=$("$pg" start "$top/.matchsync/pg")
[[ $(sql "$url" "SHOW fsync") == on ]] || fail "fsync is not on (0700 parent)"
after=$(stat -c '%a %U' "$top" / /tmp)
[[ $before == "$after" ]] || fail "permissions outside DIR changed: '$before' -> '$after'"
"$pg" stop "$top/.matchsync/pg"

# --- 3. a cluster of the old script is upgraded -----------------------------
top=$(mktemp -d); dirs+=("$top"); chmod 755 "$top"
dir=$top/.matchsync/pg
# The old script's cluster is what `--throwaway` still makes (trust, TCP on
# 127.0.0.1 at a random free port, tried again when taken, fsync off, the
# superuser): CI once saw a single random port of this test's own taken.
old=$("$pg" start "$dir" --throwaway)
[[ $old == *"user=postgres"* && $old != *"/run "* ]] || fail "not an old-style cluster: $old"
MATCHSYNC_DATABASE_URL=$old "$matchsync" migrate >/dev/null
sql "$old" "INSERT INTO users (account_id, name) VALUES (42, 'kept')" >/dev/null
# Still running with the old options when the new script starts it.
url=$("$pg" start "$dir")
[[ $url == *"user=matchsync"* ]] || fail "upgrade: the URL does not use matchsync: $url"
[[ $(sql "$url" "SELECT name FROM users WHERE account_id = 42") == kept ]] || fail "upgrade lost data"
[[ $(sql "$url" "SHOW fsync") == on ]] || fail "upgrade: fsync is not on"
pid=$(postmaster_pid "$dir")
! ss -ltnp | grep -q "pid=$pid," || fail "upgrade: the cluster still listens on TCP"
if runuser -u "$other" -- psql "host=$dir/run port=5432 user=postgres dbname=matchsync" \
     -XAtc "SELECT 1" >/dev/null 2>&1; then
  fail "upgrade: OS user $other connected as postgres"
fi
MATCHSYNC_DATABASE_URL=$url "$matchsync" migrate >/dev/null || fail "upgrade: migrate failed"
sql "$url" "INSERT INTO users (account_id) VALUES (43)" >/dev/null || fail "upgrade: matchsync cannot write"
[[ $(sql "$url" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'matchsync'") == 0 ]] ||
  fail "upgrade: tables not handed to matchsync"
"$pg" stop "$dir"
echo "pg_private_test: all checks passed"
