#!/bin/sh
# Runs INSIDE the node root file system (a debootstrap chroot or a
# debian:<suite>-slim build stage) and turns it into a spockchaos node:
# PostgreSQL MAJOR (the argument: 15, 17 or 18) + pglogical, iproute2 and procps, a cluster initialised at
# build time so that a container only has to start the server. libfaketime
# (clock-skew faults, preloaded only when a run asks for it) and nftables
# (random packet loss inside a node) serve the faults.
set -eu
major=$1
export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8

# No service may start inside the build, and Debian's default "main"
# cluster is not wanted: the image carries its own data directory.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/spockchaos.conf

# Testing's Release file (forky, for 18) carries a Valid-Until a week
# ahead; a mirror snapshot outlives it. Signatures are still checked.
apt-get -o Acquire::Check-Valid-Until=false update
apt-get install -y --no-install-recommends \
  "postgresql-$major" "postgresql-$major-pglogical" iproute2 procps libfaketime nftables
apt-get clean
# One path for every architecture: the harness preloads this file.
ln -s "$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 | head -n 1)" /usr/local/lib/spockchaos-faketime.so
test -e /usr/local/lib/spockchaos-faketime.so
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/sbin/policy-rc.d

PGBIN=/usr/lib/postgresql/$major/bin
PGDATA=/var/lib/postgresql/data
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
su postgres -s /bin/sh -c "$PGBIN/initdb -D $PGDATA -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256" >/dev/null

cat > "$PGDATA/pg_hba.conf" <<'HBA'
local all         all             trust
host  all         all 0.0.0.0/0   scram-sha-256
host  all         all ::/0        scram-sha-256
host  replication all 0.0.0.0/0   scram-sha-256
host  replication all ::/0        scram-sha-256
HBA
cp /tmp/spockchaos-node/spockchaos.conf "$PGDATA/spockchaos.conf"
# output_plugin_libraries is known by some minors only (17.12 has it);
# a server stops on a setting it does not know, so drop it where unknown.
if ! su postgres -s /bin/sh -c "$PGBIN/postgres -D $PGDATA -C output_plugin_libraries" >/dev/null 2>&1; then
  sed -i '/^output_plugin_libraries/d' "$PGDATA/spockchaos.conf"
fi
echo "include 'spockchaos.conf'" >> "$PGDATA/postgresql.conf"
install -m 0755 /tmp/spockchaos-node/entrypoint.sh /usr/local/bin/spockchaos-node
chown postgres:postgres "$PGDATA"/*.conf
chmod 0700 "$PGDATA"

# Create the pglogical extension now, not at every bring-up (a third of a
# second per node). A private start: no TCP, and mmap shared memory since a
# build root may have no /dev/shm.
su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -w -l /tmp/spockchaos-build.log \
  -o \"-c listen_addresses='' -c dynamic_shared_memory_type=mmap\" start" >/dev/null
su postgres -s /bin/sh -c "$PGBIN/psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION pglogical'"
su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -w -m fast stop" >/dev/null
rm -f /tmp/spockchaos-build.log
