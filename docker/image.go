package docker

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

//go:embed node/*
var recipe embed.FS

// ImageRepository is the repository of the default node image; the tag is
// "pg<major>-" followed by the recipe hash.
const ImageRepository = "spockchaos-node"

// DefaultMajor is the PostgreSQL major of the default node image.
const DefaultMajor = 17

// Majors are the PostgreSQL majors the recipe builds, with the Debian suite
// whose main archive has postgresql-<major> and postgresql-<major>-pglogical
// (Debian ships no 16).
var Majors = map[int]string{15: "bookworm", 17: "trixie", 18: "forky"}

// MajorNames is the list of Majors for messages: "15, 17 or 18".
func MajorNames() string {
	ms := make([]int, 0, len(Majors))
	for m := range Majors {
		ms = append(ms, m)
	}
	sort.Ints(ms)
	var b strings.Builder
	for i, m := range ms {
		switch {
		case i == 0:
		case i == len(ms)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(m))
	}
	return b.String()
}

// CheckMajor refuses a major the recipe does not build.
func CheckMajor(major int) error {
	if _, ok := Majors[major]; !ok {
		return fmt.Errorf("--pg %d: the node image is built for PostgreSQL %s only", major, MajorNames())
	}
	return nil
}

// RecipeHash is a short hash over every file of the embedded recipe, in
// name order, so that any change to it yields a new image tag.
func RecipeHash() string { return recipeHash(0) }

// recipeHash is RecipeHash, with major (when not 0) hashed after the files.
func recipeHash(major int) string {
	names, err := fs.Glob(recipe, "node/*")
	if err != nil {
		panic(err) // the pattern is constant
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		data, err := recipe.ReadFile(name)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	if major != 0 {
		fmt.Fprintf(h, "major\x00%d", major)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// DefaultImage is the tag of the default (pglogical) node image.
func DefaultImage() string { return ImageFor(DefaultMajor) }

// ImageFor is the tag of the recipe's image for a PostgreSQL major: a hash
// of the recipe and the major.
func ImageFor(major int) string {
	return fmt.Sprintf("%s:pg%d-%s", ImageRepository, major, recipeHash(major))
}

// RecipeMajor reports whether ref is the current recipe's image of some
// major, and which.
func RecipeMajor(ref string) (int, bool) {
	for m := range Majors {
		if ref == ImageFor(m) {
			return m, true
		}
	}
	return 0, false
}

// ImageMajor is the PostgreSQL major an image says it has, from its tag or
// its environment: the recipe's tags (spockchaos-node:pgN-...), PG_MAJOR
// (the recipe's and the official postgres image's), or a bin folder of a
// known layout on PATH (Debian's /usr/lib/postgresql/N/bin, PGDG RPM's
// /usr/pgsql-N/bin). False when none says it.
func ImageMajor(ref string, env []string) (int, bool) {
	if m, ok := RecipeMajor(ref); ok {
		return m, true
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "PG_MAJOR" {
			if m, err := strconv.Atoi(v); err == nil && m > 0 {
				return m, true
			}
		}
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "PATH" {
			continue
		}
		for _, dir := range strings.Split(v, ":") {
			if m := pathMajor.FindStringSubmatch(dir); m != nil {
				n, _ := strconv.Atoi(m[1])
				return n, true
			}
		}
	}
	return 0, false
}

var pathMajor = regexp.MustCompile(`^/usr/(?:lib/postgresql/|pgsql-)(\d+)/bin/?$`)

// ErrNoDocker is returned when no Docker engine answers.
var ErrNoDocker = errors.New("no Docker engine reachable (is the daemon running and DOCKER_HOST right?)")

// Client connects to the Docker engine the way testcontainers-go does and
// checks that it answers.
//
// testcontainers falls back to the default socket when DOCKER_HOST does not
// answer; spockchaos does not: a DOCKER_HOST that is set must work, or the
// user would silently get another engine.
func Client(ctx context.Context) (*testcontainers.DockerClient, error) {
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		if err := pingFromEnv(ctx); err != nil {
			return nil, fmt.Errorf("%w: DOCKER_HOST=%s: %v", ErrNoDocker, host, err)
		}
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return cli, nil
}

func pingFromEnv(ctx context.Context) error {
	cli, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}

// ImageExists reports whether the engine has image ref locally.
func ImageExists(ctx context.Context, cli *testcontainers.DockerClient, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("inspect image %s: %w", ref, err)
}

// EnsureDefaultImage returns the default image tag, building the image first
// when the engine lacks it. Progress lines of the build go to progress.
func EnsureDefaultImage(ctx context.Context, progress io.Writer) (string, error) {
	return EnsureImage(ctx, DefaultMajor, progress)
}

// EnsureImage returns the recipe's image tag for a PostgreSQL major,
// building the image first when the engine lacks it.
func EnsureImage(ctx context.Context, major int, progress io.Writer) (string, error) {
	if err := CheckMajor(major); err != nil {
		return "", err
	}
	cli, err := Client(ctx)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	tag := ImageFor(major)
	ok, err := ImageExists(ctx, cli, tag)
	if err != nil || ok {
		return tag, err
	}
	fmt.Fprintf(progress, "node image %s is missing: building it from Debian packages, no registry (about 2 minutes on 2 cores; downloads about 85 MB)\n", tag)
	if err := BuildImage(ctx, tag, major, progress); err != nil {
		return "", err
	}
	if ok, err := ImageExists(ctx, cli, tag); err != nil || !ok {
		return "", fmt.Errorf("build image %s: the build ended but the engine has no such image (%v)", tag, err)
	}
	fmt.Fprintf(progress, "node image %s built\n", tag)
	return tag, nil
}

// BuildImage runs the offline recipe (debootstrap + docker import) for a
// PostgreSQL major. It needs root, debootstrap and the docker CLI.
func BuildImage(ctx context.Context, tag string, major int, progress io.Writer) error {
	for _, tool := range []string{"debootstrap", "docker", "tar", "chroot"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("build image %s: %s not found in PATH (on Debian/Ubuntu: apt-get install -y debootstrap)", tag, tool)
		}
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("build image %s: debootstrap needs root; run `sudo make image` once", tag)
	}
	dir, err := os.MkdirTemp("", "spockchaos-recipe-")
	if err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	defer os.RemoveAll(dir)
	if err := WriteRecipe(dir); err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	args := []string{filepath.Join(dir, "build-offline.sh"), dir, tag, strconv.Itoa(major)}
	if mirror := os.Getenv("SPOCKCHAOS_DEBIAN_MIRROR"); mirror != "" {
		args = append(args, mirror)
	}
	log, err := openBuildLog(tag)
	if err != nil {
		return fmt.Errorf("build image %s: %w", tag, err)
	}
	defer log.Close()
	fmt.Fprintf(progress, "node image: full build output in %s\n", log.Name())
	steps := &stepLines{w: progress}
	cmd := exec.CommandContext(ctx, "/bin/sh", args...)
	cmd.Stdout = io.MultiWriter(log, steps)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(progress, "node image build failed; the end of %s:\n%s", log.Name(), tailOf(log.Name(), 40))
		return fmt.Errorf("build image %s with %s: %w (full output: %s)", tag, args[0], err, log.Name())
	}
	return nil
}

// WriteRecipe writes the embedded recipe files (flat) into dir.
func WriteRecipe(dir string) error {
	names, err := fs.Glob(recipe, "node/*")
	if err != nil {
		return err
	}
	for _, name := range names {
		data, err := recipe.ReadFile(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), data, 0o755); err != nil {
			return err
		}
	}
	return nil
}
