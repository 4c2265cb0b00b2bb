#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster in a directory of ours (FACTS.md):
#   scripts/pg.sh start DIR   starts it, prints its connection string, writes DIR/url
#   scripts/pg.sh stop DIR    stops it
#   scripts/pg.sh url DIR     prints the connection string
# PostgreSQL refuses to run as root, so the cluster runs as `postgres`.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url DIR}
dir=$(realpath -m "${2:?usage: pg.sh start|stop|url DIR}")
bin=/usr/lib/postgresql/15/bin

as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

case "$cmd" in
  start)
    if [[ -f "$dir/url" ]] && as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      cat "$dir/url"; exit 0
    fi
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
    # The directory may sit below one that `postgres` cannot enter.
    d="$dir"; while [[ "$d" != / ]]; do d=$(dirname "$d"); [[ $(id -u) == 0 ]] && chmod o+x "$d" 2>/dev/null || true; done
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1
    fi
    for attempt in 1 2 3 4 5 6 7 8; do
      port=$((20000 + RANDOM % 30000))
      port_free "$port" || continue
      if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 \
           -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
           start >/dev/null 2>&1; then
        as_postgres "$bin/createdb" -h "$dir" -p "$port" matchsync 2>/dev/null || true
        url="host=$dir port=$port user=postgres dbname=matchsync"
        echo "$url" >"$dir/url"
        echo "$port" >"$dir/port"
        echo "$url"
        exit 0
      fi
    done
    echo "pg.sh: could not start PostgreSQL, see $dir/log" >&2
    exit 1
    ;;
  stop)
    if [[ -d "$dir/data" ]]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -f "$dir/url"
    ;;
  url)
    cat "$dir/url"
    ;;
  *)
    echo "usage: pg.sh start|stop|url DIR" >&2; exit 2 ;;
esac
