package harness

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/spockchaos/spockchaos/docker"
)

// imageFiles reads files of an image without running anything from it:
// a container is created (never started) from the image, the files are
// copied out through the engine, and the container is removed on every
// path. It carries labels (a run's), so that a leftover is cleaned.
type imageFiles struct {
	cli   *testcontainers.DockerClient
	image string
	id    string
}

// imageFilesTimeout bounds one image's inspection.
const imageFilesTimeout = 30 * time.Second

// withImageFiles runs fn with the files of image.
func withImageFiles(ctx context.Context, image string, labels map[string]string, fn func(*imageFiles) error) error {
	ctx, cancel := context.WithTimeout(ctx, imageFilesTimeout)
	defer cancel()
	cli, err := docker.Client(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	id, err := createHelper(ctx, cli, "spockchaos-files", client.ContainerCreateOptions{
		Config: &container.Config{Image: image, Entrypoint: []string{"true"}, Cmd: []string{}, Labels: labels},
	})
	if err != nil {
		return fmt.Errorf("read files of image %s: create a container: %w", image, err)
	}
	defer removeHelper(ctx, cli, id)
	return fn(&imageFiles{cli: cli, image: image, id: id})
}

// errNoFile: the image has no such file.
var errNoFile = errors.New("no such file in the image")

// read returns the content of the regular file at p, following symbolic
// links (at most 8).
func (f *imageFiles) read(ctx context.Context, p string) ([]byte, error) {
	for range 8 {
		res, err := f.cli.CopyFromContainer(ctx, f.id, client.CopyFromContainerOptions{SourcePath: p})
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("%s: %w", p, errNoFile)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s from image %s: %w", p, f.image, err)
		}
		data, link, err := firstTarEntry(res.Content)
		res.Content.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s from image %s: %w", p, f.image, err)
		}
		if link == "" {
			return data, nil
		}
		if !path.IsAbs(link) {
			link = path.Join(path.Dir(p), link)
		}
		p = link
	}
	return nil, fmt.Errorf("read %s from image %s: too many symbolic links", p, f.image)
}

// firstTarEntry is the content of the archive's first entry, or its link
// target when it is a symbolic link.
func firstTarEntry(r io.Reader) ([]byte, string, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		return nil, "", err
	}
	switch h.Typeflag {
	case tar.TypeSymlink:
		return nil, h.Linkname, nil
	case tar.TypeReg:
		data, err := io.ReadAll(tr)
		return data, "", err
	}
	return nil, "", fmt.Errorf("%s is not a regular file (tar type %c)", h.Name, h.Typeflag)
}
