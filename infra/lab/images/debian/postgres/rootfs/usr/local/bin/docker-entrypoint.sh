#!/bin/sh
# PostgreSQL 15 with the upstream `postgres` image's interface: POSTGRES_USER, POSTGRES_DB,
# POSTGRES_PASSWORD(_FILE), PGDATA. The cluster is made on first start, on the (volume) PGDATA.
set -eu
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
BIN=/usr/lib/postgresql/15/bin
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then password=$(cat "$POSTGRES_PASSWORD_FILE"); else password="${POSTGRES_PASSWORD:-}"; fi
[ -n "$password" ] || { echo "postgres: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2; exit 1; }

mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_postgres() { su postgres -s /bin/sh -c "$*"; }

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp); printf '%s' "$password" >"$pwfile"; chown postgres "$pwfile"
  as_postgres "$BIN/initdb -D '$PGDATA' -U '$user' --pwfile='$pwfile' --auth-local=trust --auth-host=scram-sha-256" >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  as_postgres "$BIN/pg_ctl -D '$PGDATA' -o '-c listen_addresses=' -w start" >/dev/null
  if [ "$db" != postgres ]; then as_postgres "psql -v ON_ERROR_STOP=1 -U '$user' -d postgres -c 'CREATE DATABASE \"$db\"'" >/dev/null; fi
  as_postgres "$BIN/pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
  echo "postgres: initialised $PGDATA (user $user, database $db)"
fi
exec su postgres -s /bin/sh -c "exec $BIN/postgres -D '$PGDATA' -c listen_addresses='*'"
