// Package docker holds the node image recipes and makes sure the default
// node image exists.
//
// The recipe (node/) is embedded in the binary. It builds PostgreSQL 15, 17
// (the default) or 18 with pglogical, each from the Debian suite that ships
// both packages (Majors: bookworm, trixie, forky; Debian has no 16). An
// image's tag, spockchaos-node:pg<major>-<hash>, carries a hash of the recipe
// files and the major, so an unchanged recipe reuses the image already in the
// engine and a changed one builds a new image. Building needs no container
// registry: debootstrap installs the suite into a folder, setup.sh installs
// the packages, and `docker import` turns that folder into an image
// (node/build-offline.sh); the image's PG_MAJOR says its major (the entrypoint
// finds the server by it; ImageMajor reads it, as it reads the official
// postgres image's). node/Dockerfile produces the same image on a machine
// that can pull debian:<suite>-slim.
//
// pgedgelike/ is the recipe of a TEST image laid out like pgEdge's
// published images (EnsurePgEdgeLikeImage): made from the node image by
// removing the fault tools, moving the server to pgEdge's user, PGDATA
// and paths and committing it with pgEdge's entrypoint conventions. It
// holds pglogical, never Spock. Building it runs one container of the
// node image (no network) and docker commit.
//
// It never pulls images. Apart from that build it does not start
// containers (that is harness).
package docker
