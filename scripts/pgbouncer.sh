#!/usr/bin/env bash
# PgBouncer in transaction mode on a loopback port, in front of the local PostgreSQL.
#
#   scripts/pgbouncer.sh start   write the config under $PGBOUNCER_DIR and start it (idempotent)
#   scripts/pgbouncer.sh stop
#
# Every database of the server is reachable through it under its own name (a `*` entry), e.g.
#   TIYAN_DB_URL=postgresql://postgres@127.0.0.1:6432/tiyan TIYAN_DB_PGBOUNCER=true
# Settings (environment): PGBOUNCER_PORT (6432), PGBOUNCER_DIR (/tmp/tiyan-pgbouncer),
# PG_HOST/PG_PORT of the server (127.0.0.1:5432), PGBOUNCER_POOL_SIZE (server connections per
# database and user, 20), PGBOUNCER_MAX_CLIENTS (500). Authentication is `trust`, as on the
# test server: for a real deployment see docs/database.md.
set -euo pipefail

PORT="${PGBOUNCER_PORT:-6432}"
DIR="${PGBOUNCER_DIR:-/tmp/tiyan-pgbouncer}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
POOL="${PGBOUNCER_POOL_SIZE:-20}"
CLIENTS="${PGBOUNCER_MAX_CLIENTS:-500}"
RUN_AS="${PGBOUNCER_USER:-postgres}"   # PgBouncer refuses to run as root

ours() { [ -f "$DIR/pgbouncer.pid" ] && kill -0 "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null; }
running() { pg_isready -h 127.0.0.1 -p "$PORT" -q; }

start() {
  command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (apt-get install pgbouncer)" >&2; exit 1; }
  if ours; then echo "pgbouncer: already running on 127.0.0.1:$PORT"; return; fi
  if running; then
    echo "something else answers on 127.0.0.1:$PORT (Debian's own pgbouncer service?); stop it or set PGBOUNCER_PORT" >&2
    exit 1
  fi
  mkdir -p "$DIR"
  cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = $CLIENTS
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
admin_users = postgres
pidfile = $DIR/pgbouncer.pid
logfile = $DIR/pgbouncer.log
INI
  printf '"postgres" ""\n' >"$DIR/userlist.txt"
  local user=()
  if [ "$(id -u)" = 0 ]; then chown -R "$RUN_AS" "$DIR"; user=(-u "$RUN_AS"); fi
  pgbouncer -d "${user[@]}" "$DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do running && break; sleep 0.1; done
  running || { echo "pgbouncer did not start; see $DIR/pgbouncer.log" >&2; tail -5 "$DIR/pgbouncer.log" >&2 || true; exit 1; }
  echo "pgbouncer: transaction mode on 127.0.0.1:$PORT -> $PG_HOST:$PG_PORT"
}

stop() {
  if [ -f "$DIR/pgbouncer.pid" ]; then
    kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true
    rm -f "$DIR/pgbouncer.pid"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
