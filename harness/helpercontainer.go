package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// createHelper creates a short-lived helper container (a sidecar, an
// image's file reader) under a fresh unique name and returns the name,
// which the engine takes wherever it takes an id.
func createHelper(ctx context.Context, cli *testcontainers.DockerClient, prefix string, opts client.ContainerCreateOptions) (string, error) {
	return createNamed(ctx, cli, helperName(prefix), opts, engineCreate)
}

// containerCreate is the engine call createNamed makes (a spec plants
// one that fails after the engine made the container).
type containerCreate func(context.Context, *testcontainers.DockerClient, client.ContainerCreateOptions) error

func engineCreate(ctx context.Context, cli *testcontainers.DockerClient, opts client.ContainerCreateOptions) error {
	_, err := cli.ContainerCreate(ctx, opts)
	return err
}

// createNamed creates the container name. When the call fails the
// container may exist anyway: a context cancelled or timed out while the
// engine was creating it gives an error and no id (a created, never
// started sidecar outlived its run that way). So a failed create removes
// the name too, on a fresh context; not on a name clash, where the
// container of that name is another's.
func createNamed(ctx context.Context, cli *testcontainers.DockerClient, name string, opts client.ContainerCreateOptions, create containerCreate) (string, error) {
	opts.Name = name
	if err := create(ctx, cli, opts); err != nil {
		if !cerrdefs.IsConflict(err) {
			removeHelper(ctx, cli, name)
		}
		return "", err
	}
	return name, nil
}

// helperName is prefix and 8 random hex digits ("spockchaos-tool-n2-1a2b3c4d").
func helperName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return prefix + "-" + hex.EncodeToString(b)
}
