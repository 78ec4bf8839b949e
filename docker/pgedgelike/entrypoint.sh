#!/bin/bash
# Entrypoint of the pgEdge-like TEST image, in the manner of pgEdge's
# docker-entrypoint.sh (itself derived from the official postgres
# image's): on first start, initdb from POSTGRES_USER and
# POSTGRES_PASSWORD and one "host all all all" line with the default
# password method appended to pg_hba.conf; then "exec postgres $@". Like
# pgEdge's, it sets no listen_addresses and refuses to run as root.
set -Eeo pipefail
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" = postgres ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Error: Running as root is not supported. Please run this script as the 'postgres' user." >&2
    exit 1
  fi
  : "${POSTGRES_USER:=postgres}"
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA" || :
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo "Error: Database is uninitialized and superuser password is not specified." >&2
      exit 1
    fi
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
    shift
    auth="$(postgres -C password_encryption "$@")"
    printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
    set -- postgres "$@"
    echo "PostgreSQL init process complete; ready for start up."
  fi
fi
exec "$@"
