#!/bin/sh
# Builds the spockchaos node image with no container registry: debootstrap
# the Debian suite that ships PostgreSQL MAJOR with pglogical into a
# folder, run setup.sh inside it, docker import.
# Usage: build-offline.sh RECIPE_DIR IMAGE_TAG MAJOR [MIRROR]
set -eu
recipe=$1 tag=$2 major=$3 mirror=${4:-http://deb.debian.org/debian}
# The suite whose main archive has postgresql-MAJOR and
# postgresql-MAJOR-pglogical (Debian has no 16).
case "$major" in
  15) suite=bookworm ;;
  17) suite=trixie ;;
  18) suite=forky ;;
  *) echo "build-offline.sh: no Debian suite for PostgreSQL $major (15, 17 or 18)" >&2; exit 2 ;;
esac
# An older debootstrap has no script for a newer suite: they are all sid's.
script=/usr/share/debootstrap/scripts/$suite
[ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
root=$(mktemp -d /var/tmp/spockchaos-rootfs.XXXXXX)
chmod 0755 "$root"  # mktemp makes it 0700: the postgres user must traverse /
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT INT TERM
echo "spockchaos image: debootstrap $suite into $root" >&2
debootstrap --variant=minbase "$suite" "$root" "$mirror" "$script" >&2
mkdir -p "$root/tmp/spockchaos-node"
cp "$recipe/setup.sh" "$recipe/entrypoint.sh" "$recipe/spockchaos.conf" "$root/tmp/spockchaos-node/"
mount -t proc proc "$root/proc"
echo "spockchaos image: installing PostgreSQL $major + pglogical" >&2
chroot "$root" /bin/sh /tmp/spockchaos-node/setup.sh "$major" >&2
umount "$root/proc"
rm -rf "$root/tmp/spockchaos-node"
echo "spockchaos image: docker import as $tag" >&2
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'USER postgres' \
  --change "ENV LANG=C.UTF-8 PG_MAJOR=$major PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'EXPOSE 5432' \
  --change 'ENTRYPOINT ["/usr/local/bin/spockchaos-node"]' \
  --message "spockchaos node image (offline recipe)" \
  - "$tag" >&2
