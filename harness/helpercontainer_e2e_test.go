package harness

import (
	"context"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/testcontainers/testcontainers-go"

	"github.com/spockchaos/spockchaos/docker"
)

var _ = Describe("a helper container whose create call fails", Label("e2e"), func() {
	var cli *testcontainers.DockerClient
	opts := func() client.ContainerCreateOptions {
		return client.ContainerCreateOptions{Config: &container.Config{
			Image: ToolsImage(), Entrypoint: []string{"true"}, Labels: map[string]string{LabelSidecar: "spec"},
		}}
	}
	exists := func(ctx context.Context, name string) bool {
		_, err := cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			return false
		}
		Expect(err).NotTo(HaveOccurred())
		return true
	}
	// madeThenCancelled is the race seen: the engine made the container,
	// the caller's context ended before the answer came.
	madeThenCancelled := func(ctx context.Context, cli *testcontainers.DockerClient, o client.ContainerCreateOptions) error {
		Expect(engineCreate(ctx, cli, o)).To(Succeed())
		return context.Canceled
	}
	BeforeEach(func(ctx SpecContext) {
		var err error
		cli, err = docker.Client(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(cli.Close)
	})

	It("leaves no container when the engine made it before the call failed", func(ctx SpecContext) {
		name := helperName("spockchaos-test-helper")
		_, err := createNamed(ctx, cli, name, opts(), madeThenCancelled)
		Expect(err).To(MatchError(context.Canceled))
		Expect(exists(ctx, name)).To(BeFalse())
	})

	It("control: the same failing call without createNamed leaves the container, which the check sees", func(ctx SpecContext) {
		o := opts()
		o.Name = helperName("spockchaos-test-helper")
		DeferCleanup(func(ctx SpecContext) { removeHelper(ctx, cli, o.Name) })
		Expect(madeThenCancelled(ctx, cli, o)).To(MatchError(context.Canceled))
		Expect(exists(ctx, o.Name)).To(BeTrue())
	})

	It("keeps another's container on a name clash", func(ctx SpecContext) {
		name, err := createHelper(ctx, cli, "spockchaos-test-helper", opts())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { removeHelper(ctx, cli, name) })
		_, err = createNamed(ctx, cli, name, opts(), engineCreate)
		Expect(cerrdefs.IsConflict(err)).To(BeTrue(), "%v", err)
		Expect(exists(ctx, name)).To(BeTrue())
	})
})
