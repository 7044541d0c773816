#!/usr/bin/env bash
# A project-local PostgreSQL 15 + PostGIS cluster on 127.0.0.1:54329, owned by the postgres
# user (PostgreSQL refuses to run as root). Usage: local-db.sh start|stop|status
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
PORT=${ANJU_PGPORT:-54329}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATADIR="$ROOT/.local/pg"
RUN_AS=()
[ "$(id -u)" -eq 0 ] && RUN_AS=(runuser -u postgres --)

mkdir -p "$ROOT/.local"
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$ROOT/.local"; then
  # The checkout lives where the postgres user cannot enter (e.g. under /root):
  # keep the cluster in a per-checkout directory it can reach, linked from .local/pg.
  alt="/var/tmp/anju-pg-$(echo -n "$ROOT" | sha1sum | cut -c1-12)"
  mkdir -p "$alt"
  [ -L "$DATADIR" ] || ln -sfn "$alt" "$DATADIR"
  DATADIR="$alt"
fi

pgctl() { "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DATADIR" "$@"; }

is_up() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

case "${1:-start}" in
start)
  if [ ! -f "$DATADIR/PG_VERSION" ]; then
    echo "Creating the local PostgreSQL cluster in $DATADIR"
    mkdir -p "$DATADIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DATADIR"
    "${RUN_AS[@]}" "$PGBIN/initdb" -D "$DATADIR" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! is_up; then
    pgctl -w -l "$DATADIR/server.log" \
      -o "-p $PORT -k $DATADIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
      start >/dev/null
  fi
  psql=("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  # anju owns the schema and runs migrations and tests (it creates the test databases; it may
  # see and stop the app's sessions, as the tests do); anju_app is what the application
  # connects as: no superuser, owns nothing, so it cannot switch the append-only triggers off.
  if [ -z "$("${psql[@]}" -d postgres -c "select 1 from pg_roles where rolname='anju'")" ]; then
    "${psql[@]}" -d postgres -c "create role anju login createdb"
  fi
  "${psql[@]}" -d postgres -c "set client_min_messages = warning; alter role anju nosuperuser createdb; grant pg_signal_backend, pg_read_all_stats to anju"
  if [ -z "$("${psql[@]}" -d postgres -c "select 1 from pg_roles where rolname='anju_app'")" ]; then
    "${psql[@]}" -d postgres -c "create role anju_app login nosuperuser nocreatedb"
  fi
  # PostGIS and pg_trgm in template1, so test databases have them too.
  "${psql[@]}" -d template1 -c "set client_min_messages = warning; create extension if not exists postgis; create extension if not exists pg_trgm"
  if [ -z "$("${psql[@]}" -d postgres -c "select 1 from pg_database where datname='anju'")" ]; then
    "${psql[@]}" -d postgres -c "create database anju owner anju"
  fi
  ;;
stop)
  if [ -f "$DATADIR/PG_VERSION" ] && is_up; then pgctl -m fast stop >/dev/null; fi
  ;;
status)
  is_up && echo "up on 127.0.0.1:$PORT" || echo "down"
  ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
