#!/bin/sh
# Builds the spockchaos node image with no container registry: debootstrap
# Debian 13 (trixie) into a folder, run setup.sh inside it, docker import.
# Usage: build-offline.sh RECIPE_DIR IMAGE_TAG [MIRROR]
set -eu
recipe=$1 tag=$2 mirror=${3:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/spockchaos-rootfs.XXXXXX)
chmod 0755 "$root"  # mktemp makes it 0700: the postgres user must traverse /
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT INT TERM
echo "spockchaos image: debootstrap trixie into $root" >&2
debootstrap --variant=minbase trixie "$root" "$mirror" >&2
mkdir -p "$root/tmp/spockchaos-node"
cp "$recipe/setup.sh" "$recipe/entrypoint.sh" "$recipe/spockchaos.conf" "$root/tmp/spockchaos-node/"
mount -t proc proc "$root/proc"
echo "spockchaos image: installing PostgreSQL 17 + pglogical" >&2
chroot "$root" /bin/sh /tmp/spockchaos-node/setup.sh >&2
umount "$root/proc"
rm -rf "$root/tmp/spockchaos-node"
echo "spockchaos image: docker import as $tag" >&2
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'USER postgres' \
  --change 'ENV LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'EXPOSE 5432' \
  --change 'ENTRYPOINT ["/usr/local/bin/spockchaos-node"]' \
  --message "spockchaos node image (offline recipe)" \
  - "$tag" >&2
