#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL server on another loopback port, made with
# pg_basebackup (for TIYAN_DB_READ_URL and the replica tests).
#
#   scripts/pg-replica.sh start   make it (if needed) and start it (idempotent)
#   scripts/pg-replica.sh stop    stop it and remove its data folder
#
# The primary must allow replication from 127.0.0.1: its wal_level must be `replica` (or
# `logical`) with max_wal_senders > 0, and pg_hba.conf needs a `replication` line; when that
# line is missing this script adds `host replication all 127.0.0.1/32 trust` (the test server
# trusts 127.0.0.1 already) and reloads the server.
# Settings (environment): REPLICA_PORT (5433), REPLICA_DIR (/tmp/tiyan-replica),
# PG_HOST/PG_PORT of the primary (127.0.0.1:5432), PG_BIN (the server's programs).
set -euo pipefail

PORT="${REPLICA_PORT:-5433}"
DIR="${REPLICA_DIR:-/tmp/tiyan-replica}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
RUN_AS="${REPLICA_USER:-postgres}"     # the server refuses to run as root
primary() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -XAtq "$@"; }

VERSION="$(primary -c 'SHOW server_version_num' | cut -c1-2)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/$VERSION/bin}"
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi
}

allow_replication() {
  [ "$(primary -c 'SHOW wal_level')" != minimal ] || { echo "the primary's wal_level is minimal; set it to replica" >&2; exit 1; }
  [ "$(primary -c 'SHOW max_wal_senders')" -gt 0 ] || { echo "the primary's max_wal_senders is 0" >&2; exit 1; }
  local rules
  rules="$(primary -c "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND (type = 'local' OR address = '127.0.0.1')")"
  if [ "$rules" = 0 ]; then
    local hba
    hba="$(primary -c 'SHOW hba_file')"
    echo "pg-replica: allowing replication from 127.0.0.1 in $hba"
    printf '\n# added by tiyan scripts/pg-replica.sh\nhost replication all 127.0.0.1/32 trust\n' >>"$hba"
    primary -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 0.5
  fi
}

running() { pg_isready -h 127.0.0.1 -p "$PORT" -q; }

start() {
  if running; then echo "pg-replica: already answering on 127.0.0.1:$PORT"; return; fi
  allow_replication
  stop
  mkdir -p "$DIR"
  [ "$(id -u)" != 0 ] || chown "$RUN_AS" "$DIR"
  chmod 700 "$DIR"
  as_owner "$PG_BIN/pg_basebackup" -h "$PG_HOST" -p "$PG_PORT" -U postgres -D "$DIR/data" \
    --write-recovery-conf --wal-method=stream --checkpoint=fast --no-sync
  # Debian keeps the configuration outside the data folder: give the copy its own (a hot
  # standby needs these limits at least as high as the primary's)
  as_owner tee "$DIR/data/postgresql.conf" >/dev/null <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
hot_standby = on
recovery_init_sync_method = syncfs
max_connections = $(primary -c 'SHOW max_connections')
max_worker_processes = $(primary -c 'SHOW max_worker_processes')
max_wal_senders = $(primary -c 'SHOW max_wal_senders')
max_prepared_transactions = $(primary -c 'SHOW max_prepared_transactions')
max_locks_per_transaction = $(primary -c 'SHOW max_locks_per_transaction')
shared_buffers = 32MB
hba_file = '$DIR/data/pg_hba.conf'
ident_file = '$DIR/data/pg_ident.conf'
CONF
  as_owner tee "$DIR/data/pg_hba.conf" >/dev/null <<HBA
local all all trust
host all all 127.0.0.1/32 trust
HBA
  as_owner touch "$DIR/data/pg_ident.conf"
  as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null
  running || { echo "the replica did not start; see $DIR/server.log" >&2; exit 1; }
  echo "pg-replica: streaming replica of $PG_HOST:$PG_PORT on 127.0.0.1:$PORT ($DIR/data)"
}

stop() {
  if [ -f "$DIR/data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$DIR"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
