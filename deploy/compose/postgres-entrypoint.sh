#!/bin/sh
# The official PostgreSQL image's interface, for Debian's postgresql-15 (infra.Dockerfile): a new
# PGDATA is initialised with POSTGRES_PASSWORD for `postgres` (scram-sha-256 over TCP) and the
# /docker-entrypoint-initdb.d/*.sql files run once; then the server runs as `postgres`, in front.
set -eu
if [ "${1:-}" != "postgres" ]; then exec "$@"; fi
chown postgres:postgres "$PGDATA" /var/run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required for a new database}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  runuser -u postgres -- initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  # Only the socket while the init scripts run: nobody reaches a half-made database.
  runuser -u postgres -- pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k /var/run/postgresql" -w start >/dev/null
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U postgres -d postgres -f - < "$f"
  done
  runuser -u postgres -- pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
shift
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" "$@"
