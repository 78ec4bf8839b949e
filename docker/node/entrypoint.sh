#!/bin/sh
# Container entrypoint of a spockchaos node. The data directory was
# initialised when the image was built; only the superuser password is
# per run. It is set in single-user mode, before the server listens, so
# the TCP port never accepts a login without it.
set -eu
PGBIN=/usr/lib/postgresql/${PG_MAJOR:?PG_MAJOR is set by the image}/bin
PGDATA=/var/lib/postgresql/data
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
  echo "spockchaos-node: POSTGRES_PASSWORD is required" >&2
  exit 2
fi
case "$POSTGRES_PASSWORD" in
  *[!A-Za-z0-9]*) echo "spockchaos-node: POSTGRES_PASSWORD must be alphanumeric" >&2; exit 2 ;;
esac
if [ ! -f "$PGDATA/.spockchaos-password-set" ]; then
  echo "ALTER ROLE postgres PASSWORD '$POSTGRES_PASSWORD'" |
    "$PGBIN/postgres" --single -D "$PGDATA" -j postgres >/dev/null
  touch "$PGDATA/.spockchaos-password-set"
fi
# Accept the official postgres image's form: "postgres -c k=v ...".
if [ "${1:-}" = postgres ]; then shift; fi
exec "$PGBIN/postgres" -D "$PGDATA" "$@"
