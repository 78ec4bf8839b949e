// Package docker holds the node image recipes and makes sure the default
// node image exists.
//
// The recipe (node/) is embedded in the binary. Its image tag carries a hash
// of the recipe files, so an unchanged recipe reuses the image already in the
// engine and a changed one builds a new image. Building needs no container
// registry: debootstrap installs Debian 13 (trixie) with PostgreSQL 17 and
// pglogical into a folder, and `docker import` turns that folder into an
// image (node/build-offline.sh). node/Dockerfile produces the same image on a
// machine that can pull debian:trixie-slim.
//
// It never pulls images. It does not start containers (that is harness).
package docker
