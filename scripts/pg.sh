#!/usr/bin/env bash
# A PostgreSQL 15 cluster in a directory of ours.
#   scripts/pg.sh start DIR              the run command's cluster: durable and private
#   scripts/pg.sh start DIR --throwaway  a test suite's cluster (fsync off, see below)
#   scripts/pg.sh stop DIR               stops it
#   scripts/pg.sh url DIR                prints the connection string
# `start` prints the connection string and writes DIR/url and DIR/port.
#
# The private cluster (README "The embedded database"):
# - fsync on: a power cut or a kernel crash cannot corrupt the match history;
# - no TCP listener (listen_addresses = ''): its one socket is in DIR/run,
#   and DIR is mode 0700, owned by the server's OS user, so that no other OS
#   user can even reach the socket;
# - peer authentication only: the OS user who ran this script is mapped to
#   the role `matchsync`, which owns the database `matchsync` and is not a
#   superuser; the superuser `postgres` is reachable only by the server's OS
#   user (for this script's own administration);
# - nothing outside DIR changes permission.
# PostgreSQL refuses to run as root, so as root the server runs as the OS user
# `postgres`. When that user cannot traverse the folders above DIR (a clone in
# /root, mode 0700), the server's processes, and only they, get the
# capability CAP_DAC_READ_SEARCH (an ambient capability, setpriv), which lets
# them look up paths and read files regardless of permissions: no folder's mode
# changes, and the socket stays reachable by `postgres` and root only.
#
# A cluster made by the old version of this script (fsync off, trust
# authentication, TCP on 127.0.0.1, everything owned by the superuser) is
# upgraded at its first start: its files are flushed to disk once (initdb
# --sync-only), its authentication rules are replaced, the role `matchsync` is
# made the owner of the database and of everything in its schema, and the new
# connection string is written. Permissions the old script added to the
# folders above DIR (o+x) are left as they are: this script cannot know which
# were there before.
#
# The throwaway cluster is the test suites': fsync off (speed; nothing to keep),
# trust authentication as the superuser `postgres` (the suites create and drop
# databases), a TCP port on 127.0.0.1 beside the socket in DIR, as before.
set -euo pipefail

usage="usage: pg.sh start DIR [--throwaway] | stop DIR | url DIR"
cmd=${1:?$usage}
dir=$(realpath -m "${2:?$usage}")
mode=private
case "${3:-}" in
  --throwaway) mode=throwaway ;;
  "") ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
bin=/usr/lib/postgresql/15/bin
# The private cluster's socket is named after this port; nothing listens on it.
private_port=5432

if [[ $(id -u) == 0 ]]; then server_user=postgres; else server_user=$(id -un); fi
client_user=$(id -un)

# Runs a command as the server's OS user (see the header for the capability).
as_server() {
  if [[ $(id -u) != 0 ]]; then
    "$@"
  elif runuser -u postgres -- test -x "$(dirname "$dir")" 2>/dev/null; then
    runuser -u postgres -- "$@"
  else
    setpriv --reuid=postgres --regid=postgres --init-groups \
      --inh-caps=+dac_read_search --ambient-caps=+dac_read_search -- "$@"
  fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running() {
  [[ -f "$dir/data/PG_VERSION" ]] && as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# Creates DIR, owned by the server's OS user, mode 0700. DIR's parent is
# created if missing with the umask's mode, like any `mkdir -p`.
make_dir() {
  mkdir -p "$dir"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
}

start_throwaway() {
  if [[ -f "$dir/url" ]] && running; then
    cat "$dir/url"; exit 0
  fi
  make_dir
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_server "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
      --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1
  fi
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    port_free "$port" || continue
    if as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
         -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
         start >/dev/null 2>&1; then
      as_server "$bin/createdb" -h "$dir" -p "$port" matchsync 2>/dev/null || true
      url="host=$dir port=$port user=postgres dbname=matchsync"
      echo "$url" >"$dir/url"
      echo "$port" >"$dir/port"
      echo "$url"
      exit 0
    fi
  done
  echo "pg.sh: could not start PostgreSQL, see $dir/log" >&2
  exit 1
}

# Authentication of the private cluster: peer over the socket, nothing else.
write_auth() {
  as_server tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/pg.sh: Unix socket only, peer authentication.
local  all        postgres   peer  map=admin
local  matchsync  matchsync  peer  map=app
EOF
  as_server tee "$dir/data/pg_ident.conf" >/dev/null <<EOF
# Written by scripts/pg.sh: which OS user may log in as which role.
admin  $server_user  postgres
app    $client_user  matchsync
EOF
}

admin_sql() {
  as_server "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/run" \
    -p "$private_port" -U postgres "$@"
}

start_private() {
  local url="host=$dir/run port=$private_port user=matchsync dbname=matchsync"
  if [[ -f "$dir/url" ]] && [[ $(cat "$dir/url") == "$url" ]] && running; then
    echo "$url"; exit 0
  fi
  make_dir
  local upgrade=0
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=peer -E UTF8 \
      --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1
  elif ! grep -q '^# Written by scripts/pg.sh' "$dir/data/pg_hba.conf"; then
    # A cluster of the old script: stop it (it may run with TCP and trust),
    # then flush what fsync=off may have left in the page cache.
    upgrade=1
    echo "pg.sh: upgrading $dir to a durable, private cluster" >&2
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    as_server "$bin/initdb" -D "$dir/data" --sync-only >/dev/null
  elif running; then
    # Started by hand or by an older run with other options: restart it with ours.
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  write_auth
  as_server mkdir -p "$dir/run"
  chmod 700 "$dir/run"
  if ! as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
       -o "-p $private_port -k $dir/run -c listen_addresses='' -c unix_socket_permissions=0700 -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c max_connections=300" \
       start >/dev/null 2>&1; then
    echo "pg.sh: could not start PostgreSQL, see $dir/log" >&2
    exit 1
  fi
  # The role and its database; idempotent, so that every start repairs them.
  admin_sql -d postgres <<'EOF'
SELECT 'CREATE ROLE matchsync LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'matchsync') \gexec
ALTER ROLE matchsync LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
SELECT 'CREATE DATABASE matchsync OWNER matchsync'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'matchsync') \gexec
ALTER DATABASE matchsync OWNER TO matchsync;
EOF
  if ((upgrade)); then
    # The old script's migrations ran as the superuser: hand every object of
    # the schema to matchsync (sequences of a column follow their table).
    admin_sql -d matchsync <<'EOF'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
             AND NOT (c.relkind = 'S' AND EXISTS (
               SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO matchsync',
      CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                     WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.name);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
           JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %s OWNER TO matchsync', r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO matchsync', r.name);
  END LOOP;
END $$;
EOF
  fi
  rm -f "$dir/port"
  echo "$url" >"$dir/url"
  echo "$url"
}

case "$cmd" in
  start)
    if [[ $mode == throwaway ]]; then start_throwaway; else start_private; fi
    ;;
  stop)
    if [[ -d "$dir/data" ]]; then
      as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -f "$dir/url"
    ;;
  url)
    cat "$dir/url"
    ;;
  *)
    echo "$usage" >&2; exit 2 ;;
esac
