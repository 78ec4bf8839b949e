package harness_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
)

// importImage makes a one-layer image holding files (path -> content)
// and removes it after the spec.
func importImage(ctx context.Context, tag string, files map[string][]byte) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		Expect(tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg})).To(Succeed())
		_, err := tw.Write(data)
		Expect(err).NotTo(HaveOccurred())
	}
	Expect(tw.Close()).To(Succeed())
	cmd := exec.CommandContext(ctx, "docker", "import", "-", tag)
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s", out)
	DeferCleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
}

var _ = Describe("clock skew on an image, judged before anything starts", Label("e2e"), func() {
	It("is possible on the node image of every major present and on the pgEdge-like one", func(ctx SpecContext) {
		Expect(harness.ClockSkewSupport(ctx, docker.DefaultImage())).To(Succeed())
		cli, err := docker.Client(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer cli.Close()
		for major := range docker.Majors {
			// bookworm's glibc (2.36) is older than the tools image's: the
			// image's own libfaketime is the one preloaded.
			if ok, _ := docker.ImageExists(ctx, cli, docker.ImageFor(major)); ok {
				Expect(harness.ClockSkewSupport(ctx, docker.ImageFor(major))).To(Succeed(), "PostgreSQL %d", major)
			}
		}
		image, err := docker.EnsurePgEdgeLikeImage(ctx, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Expect(harness.ClockSkewSupport(ctx, image)).To(Succeed())
	}, SpecTimeout(3*time.Minute))

	It("is refused, in one line, on an image without glibc, with musl, or with a glibc too old for the library", func(ctx SpecContext) {
		importImage(ctx, "spockchaos-test-noglibc:e2e", map[string][]byte{"etc/hostname": []byte("x\n")})
		err := harness.ClockSkewSupport(ctx, "spockchaos-test-noglibc:e2e")
		Expect(err).To(MatchError(ContainSubstring("no glibc found")))
		Expect(err).To(MatchError(harness.ErrClockSkewUnsupported))
		Expect(err.Error()).NotTo(ContainSubstring("\n"))

		importImage(ctx, "spockchaos-test-musl:e2e", map[string][]byte{"lib/ld-musl-x86_64.so.1": []byte("\x7fELF")})
		Expect(harness.ClockSkewSupport(ctx, "spockchaos-test-musl:e2e")).To(MatchError(ContainSubstring("it has musl")))

		// A "glibc" that defines no GLIBC_ version at all: the oldest there is.
		lib, err := exec.CommandContext(ctx, "sh", "-c", "cat /lib/x86_64-linux-gnu/libz.so.1 2>/dev/null || cat /usr/lib/x86_64-linux-gnu/libz.so.1").Output()
		if err != nil || len(lib) == 0 {
			Skip("no libz on this host to stand for an old glibc")
		}
		importImage(ctx, "spockchaos-test-oldglibc:e2e", map[string][]byte{"lib64/libc.so.6": lib})
		Expect(harness.ClockSkewSupport(ctx, "spockchaos-test-oldglibc:e2e")).To(MatchError(MatchRegexp(`its glibc .* lacks GLIBC_2\.\d+`)))
	}, SpecTimeout(3*time.Minute))
})
