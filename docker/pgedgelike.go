package docker

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

//go:embed pgedgelike/*
var pgEdgeLikeRecipe embed.FS

// PgEdgeLikeRepository is the repository of the pgEdge-like TEST image.
const PgEdgeLikeRepository = "spockchaos-pgedge-like"

// pgEdgeLikeChanges are the image settings of pgEdge's published images
// (their Dockerfile): the non-root user postgres (uid 26), PGDATA under
// /var/lib/pgsql, binaries on PATH from /usr/pgsql-17/bin, their
// entrypoint, SIGINT to stop. PATH leaves out Debian's binary folder, so
// that nothing finds the server by the node image's path.
var pgEdgeLikeChanges = []string{
	"USER postgres",
	"ENV PGDATA=/var/lib/pgsql/17/data",
	"ENV PG_MAJOR=17",
	"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/pgsql-17/bin",
	"WORKDIR /",
	`ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]`,
	`CMD ["postgres"]`,
	"EXPOSE 5432",
}

// pgEdgeLikeStopSignal is pgEdge's STOPSIGNAL, set through the commit's
// configuration: the engine's commit takes no STOPSIGNAL change.
const pgEdgeLikeStopSignal = "SIGINT"

// PgEdgeLikeImage is the tag of the pgEdge-like test image: a hash of its
// recipe, its changes and the node image it is made from.
func PgEdgeLikeImage() string {
	h := sha256.New()
	for _, name := range []string{"pgedgelike/prepare.sh", "pgedgelike/entrypoint.sh"} {
		data, _ := pgEdgeLikeRecipe.ReadFile(name)
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s", strings.Join(pgEdgeLikeChanges, "\n"), pgEdgeLikeStopSignal, DefaultImage())
	return PgEdgeLikeRepository + ":pg17-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// pgEdgeLikeScript is prepare.sh with the entrypoint inlined.
func pgEdgeLikeScript() string {
	prepare, _ := pgEdgeLikeRecipe.ReadFile("pgedgelike/prepare.sh")
	entry, _ := pgEdgeLikeRecipe.ReadFile("pgedgelike/entrypoint.sh")
	return strings.Replace(string(prepare), "@ENTRYPOINT@", strings.TrimRight(string(entry), "\n"), 1)
}

// EnsurePgEdgeLikeImage returns the tag of a TEST image laid out like
// pgEdge's published images, building it from the default node image
// when the engine lacks it: pglogical inside (not Spock), no iproute2,
// nftables, procps or libfaketime, the non-root user postgres with uid
// 26, PGDATA=/var/lib/pgsql/17/data initialised by its entrypoint at
// first start (which sets no listen_addresses), binaries in
// /usr/pgsql-17/bin. It proves that the harness needs nothing of an
// image beyond the official conventions. The build runs the recipe as
// root in a container of the node image (no network) and commits it with
// the image settings; it needs the docker CLI and takes seconds.
func EnsurePgEdgeLikeImage(ctx context.Context, progress io.Writer) (string, error) {
	base, err := EnsureDefaultImage(ctx, progress)
	if err != nil {
		return "", err
	}
	cli, err := Client(ctx)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	tag := PgEdgeLikeImage()
	if ok, err := ImageExists(ctx, cli, tag); err != nil || ok {
		return tag, err
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return "", fmt.Errorf("build image %s: the docker CLI is not in PATH", tag)
	}
	fmt.Fprintf(progress, "test image %s is missing: building it from %s\n", tag, base)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	name := "spockchaos-build-" + strings.ReplaceAll(strings.TrimPrefix(tag, PgEdgeLikeRepository+":"), ".", "-")
	_ = exec.Command("docker", "rm", "-f", name).Run() // a leftover of an interrupted build
	defer func() { _ = exec.Command("docker", "rm", "-f", name).Run() }()
	run := exec.CommandContext(ctx, "docker", "run", "-i", "--name", name, "--user", "0:0", "--network", "none",
		"--entrypoint", "/bin/sh", base, "-s")
	run.Stdin = strings.NewReader(pgEdgeLikeScript())
	if out, err := run.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build image %s: prepare in a container of %s: %w: %s", tag, base, err, strings.TrimSpace(string(out)))
	}
	_, err = cli.ContainerCommit(ctx, name, client.ContainerCommitOptions{
		Reference: tag,
		Comment:   "spockchaos pgEdge-like test image (pglogical)",
		Changes:   pgEdgeLikeChanges,
		Config:    &container.Config{StopSignal: pgEdgeLikeStopSignal},
	})
	if err != nil {
		return "", fmt.Errorf("build image %s: commit: %w", tag, err)
	}
	fmt.Fprintf(progress, "test image %s built\n", tag)
	return tag, nil
}
