package harness

import (
	"context"
	"fmt"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/pgversion"
)

// CheckMajor checks a --pg choice against the flavor and image, without
// Docker: 0 is always fine; otherwise the major must be one the recipe
// builds, the flavor must have the recipe's image (pglogical) or an image
// named, and a recipe image named must be of that major. An image the tag
// says nothing about is checked at start (checkImageMajor).
func CheckMajor(f Flavor, image string, major int) error {
	if major == 0 {
		return nil
	}
	if err := docker.CheckMajor(major); err != nil {
		return err
	}
	if image == "" && f.DefaultImage() != docker.DefaultImage() {
		return fmt.Errorf("--pg %d: flavor %s has no image recipe to build it: name an image of PostgreSQL %d with --image", major, f.Name(), major)
	}
	if m, ok := docker.RecipeMajor(image); ok && m != major {
		return fmt.Errorf("--pg %d and --image %s disagree: that image is PostgreSQL %d", major, image, m)
	}
	return nil
}

// ImageFor is the image of a config without one: the flavor's default,
// or with PGMajor the recipe's image of that major.
func ImageFor(f Flavor, major int) string {
	if major != 0 && f.DefaultImage() == docker.DefaultImage() {
		return docker.ImageFor(major)
	}
	return f.DefaultImage()
}

// checkImageMajor refuses, before any container starts, an image whose
// metadata (tag, PG_MAJOR, PATH) does not say it is PostgreSQL major.
func checkImageMajor(ctx context.Context, image string, major int) error {
	if major == 0 {
		return nil
	}
	cli, err := docker.Client(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	insp, err := cli.ImageInspect(ctx, image)
	if err != nil {
		return fmt.Errorf("inspect image %s: %w", image, err)
	}
	var env []string
	if insp.Config != nil {
		env = insp.Config.Env
	}
	m, ok := docker.ImageMajor(image, env)
	switch {
	case !ok:
		return fmt.Errorf("--pg %d: image %s says not which PostgreSQL it has (no PG_MAJOR, no versioned bin folder on PATH): leave --pg out", major, image)
	case m != major:
		return fmt.Errorf("--pg %d and --image %s disagree: that image is PostgreSQL %d", major, image, m)
	}
	return nil
}

// checkServerMajor refuses, before any replication is set up, a server
// spockchaos does not support (pgversion.Supported) or, with --pg, one of
// another major than asked: one line naming the image.
func (c *Cluster) checkServerMajor(ctx context.Context, want int) error {
	n := c.Nodes[0]
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return serverMajorError(c.Image, pgversion.Of(conn.PgConn()), want)
}

// serverMajorError is checkServerMajor's decision for a server of
// server_version_num num (0: it did not say, which passes).
func serverMajorError(image string, num, want int) error {
	if num == 0 {
		return nil
	}
	if err := pgversion.Supported(num); err != nil {
		return fmt.Errorf("image %s: %w", image, err)
	}
	if want != 0 && pgversion.Major(num) != want {
		return fmt.Errorf("--pg %d but image %s runs PostgreSQL %d", want, image, pgversion.Major(num))
	}
	return nil
}
