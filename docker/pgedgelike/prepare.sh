#!/bin/sh
# Runs as root in a container of the spockchaos node image and turns it
# into a TEST image laid out like pgEdge's published images (pglogical
# inside, not Spock): no iproute2, nftables, procps or libfaketime; user
# postgres with uid 26; PGDATA=/var/lib/pgsql/17/data, empty until the
# entrypoint runs initdb at first start; binaries under /usr/pgsql-17/bin.
# The image settings (USER, ENV, ENTRYPOINT, STOPSIGNAL) are docker
# commit changes (see docker/pgedgelike.go).
set -eu
dpkg --purge --force-depends iproute2 nftables libnftables1 procps libfaketime >/dev/null 2>&1
rm -f /usr/local/lib/spockchaos-faketime.so /usr/local/bin/spockchaos-node
# (kill is a shell builtin too: only its program counts.)
for tool in ip nft ps kill pkill faketime; do
  for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
    if [ -e "$dir/$tool" ]; then
      echo "pgedge-like image: $dir/$tool is still there" >&2
      exit 1
    fi
  done
done
if ls /usr/lib/*/faketime/* >/dev/null 2>&1; then
  echo "pgedge-like image: libfaketime is still there" >&2
  exit 1
fi
# The node image's cluster is not wanted: the entrypoint makes its own.
rm -rf /var/lib/postgresql/data
# uid 26 as on Rocky Linux (Debian's gid 26 is taken: the group stays).
usermod -u 26 -d /var/lib/pgsql postgres
mkdir -p /var/lib/pgsql/17/data /usr/pgsql-17 /var/run/postgresql /docker-entrypoint-initdb.d
chown -R postgres:postgres /var/lib/pgsql /var/run/postgresql /var/lib/postgresql
chmod 1777 /var/lib/pgsql/17/data
ln -s /usr/lib/postgresql/17/bin /usr/pgsql-17/bin
install -m 0755 /dev/stdin /usr/local/bin/docker-entrypoint.sh <<'ENTRYPOINT'
@ENTRYPOINT@
ENTRYPOINT
