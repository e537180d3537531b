#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests and benchmarks, from Debian's packages.
#
#   bash scripts/postgres-for-tests.sh start   # installs if missing, starts, prints the URL
#   bash scripts/postgres-for-tests.sh stop    # stops it (the data folder stays for the next start)
#   bash scripts/postgres-for-tests.sh url     # prints the URL only
#   bash scripts/postgres-for-tests.sh sql SQL # runs SQL as the cluster's superuser (tests that need
#                                              # one, e.g. to make a tablespace), prints the rows
#
# Its own cluster in $PLATEPAY_PG_DIR (default /var/tmp/platepay-pg, owned by
# the postgres user), listening on 127.0.0.1 only, port $PLATEPAY_PG_PORT
# (default 5433, so a system cluster on 5432 is left alone). It has a login
# role `platepay` (password `platepay`, may create databases: each test makes
# its own) and a database `platepay_test`. Idempotent: start on a running
# cluster only prints the URL. Needs root (apt-get, runuser).
set -euo pipefail

DIR="${PLATEPAY_PG_DIR:-/var/tmp/platepay-pg}"
PORT="${PLATEPAY_PG_PORT:-5433}"
URL="postgres://platepay:platepay@127.0.0.1:${PORT}/platepay_test"

pg_bin() {
  local v
  v="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$v" ] && [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && echo "/usr/lib/postgresql/$v/bin"
}

as_postgres() { runuser -u postgres -- "$@"; }

install_if_missing() {
  if [ -n "$(pg_bin || true)" ]; then return; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "postgres-for-tests: PostgreSQL is not installed and this is not root" >&2
    exit 1
  fi
  echo "postgres-for-tests: installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # Debian's package creates and starts a cluster "main" on 5432; ours is separate
  apt-get install -y -qq --no-install-recommends postgresql >&2
}

running() {
  local bin
  bin="$(pg_bin)"
  [ -f "$DIR/data/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

start() {
  install_if_missing
  local bin
  bin="$(pg_bin)"
  if ! running; then
    mkdir -p "$DIR"
    chown postgres:postgres "$DIR"
    chmod 700 "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    as_postgres "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200" >&2 ||
      { tail -n 30 "$DIR/server.log" >&2; exit 1; }
  fi
  local psql=("$bin/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
  if [ "$(as_postgres "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'platepay'")" != "1" ]; then
    as_postgres "${psql[@]}" -c "CREATE ROLE platepay LOGIN CREATEDB PASSWORD 'platepay'"
  fi
  if [ "$(as_postgres "${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'platepay_test'")" != "1" ]; then
    as_postgres "${psql[@]}" -c "CREATE DATABASE platepay_test OWNER platepay"
  fi
  echo "$URL"
}

stop() {
  local bin
  bin="$(pg_bin || true)"
  if [ -z "$bin" ] || [ ! -f "$DIR/data/PG_VERSION" ]; then return; fi
  if running; then as_postgres "$bin/pg_ctl" -D "$DIR/data" -m fast -w stop >&2; fi
}

sql() {
  local bin
  bin="$(pg_bin)"
  running || { echo "postgres-for-tests: not running (start it first)" >&2; exit 1; }
  as_postgres "$bin/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt -c "$1"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  sql)
    [ $# -eq 2 ] || { echo "usage: $0 sql SQL" >&2; exit 2; }
    sql "$2"
    ;;
  *)
    echo "usage: $0 start|stop|url|sql SQL" >&2
    exit 2
    ;;
esac
