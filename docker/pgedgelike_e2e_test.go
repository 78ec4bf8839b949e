package docker_test

import (
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/docker"
)

var _ = Describe("the pgEdge-like test image", Label("e2e"), func() {
	It("has none of the fault tools, runs as uid 26 with pgEdge's paths, and its entrypoint sets no listen_addresses", func(ctx SpecContext) {
		tag, err := docker.EnsurePgEdgeLikeImage(ctx, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Expect(tag).To(Equal(docker.PgEdgeLikeImage()))
		inImage := func(script string) string {
			out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", tag, "-c", script).CombinedOutput()
			Expect(err).NotTo(HaveOccurred(), "%s", out)
			return strings.TrimSpace(string(out))
		}
		Expect(inImage(`for t in ip nft ps kill pkill faketime; do ls /usr/local/sbin/$t /usr/local/bin/$t /usr/sbin/$t /usr/bin/$t /sbin/$t /bin/$t 2>/dev/null; done; ls /usr/lib/*/faketime 2>/dev/null; true`)).To(BeEmpty())
		Expect(inImage(`id -u; echo $PGDATA; command -v postgres; ls -A "$PGDATA" | wc -l`)).
			To(Equal("26\n/var/lib/pgsql/17/data\n/usr/pgsql-17/bin/postgres\n0"))
		Expect(inImage(`grep -v '^#' /usr/local/bin/docker-entrypoint.sh | grep -c listen_addresses || true`)).To(Equal("0"))
		out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Config.User}} {{.Config.StopSignal}} {{json .Config.Entrypoint}}", tag).Output()
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSpace(string(out))).To(Equal(`postgres SIGINT ["/usr/local/bin/docker-entrypoint.sh"]`))
	}, SpecTimeout(5*time.Minute))
})
