package fault_test

import (
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// The faults that used to run tools inside a node, on an image that has
// none of them and runs as uid 26 with PGDATA elsewhere
// (docker.EnsurePgEdgeLikeImage), started with no option but the image.
var _ = Describe("faults on an image with no tools, laid out like pgEdge's", Label("e2e", "faults", "anyimage"), Ordered, func() {
	var (
		cluster *harness.Cluster
		rec     *history.Recorder
	)

	BeforeAll(func(ctx SpecContext) {
		image, err := docker.EnsurePgEdgeLikeImage(ctx, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		cluster, rec, _ = startRecordedClusterWith(ctx, harness.Config{Image: image, LinkProxies: true, ClockSkew: true})
	}, NodeTimeout(5*time.Minute))

	AfterEach(func(ctx SpecContext) { dumpLogsOnFailure(ctx, cluster) }, NodeTimeout(30*time.Second))

	It("runs its servers as uid 26 from PGDATA=/var/lib/pgsql/17/data", func(ctx SpecContext) {
		for _, n := range cluster.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			var dir string
			err = conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dir)
			conn.Close(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(dir).To(Equal("/var/lib/pgsql/17/data"), n.Name)
			res, err := harness.RunTool(ctx, n, harness.Tool{Step: "read the server's uid", Cmd: []string{"sh", "-c", "stat -c %u /proc/1"}})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Output).To(Equal("26"), n.Name)
		}
	}, SpecTimeout(time.Minute))

	DescribeTable("a no-op control fails its effect check",
		func(ctx SpecContext, mode func(*harness.Cluster) fault.Mode) {
			f := fault.New(noopInject{mode(cluster)}, rec)
			f.EffectTimeout = 3 * time.Second
			Expect(f.Inject(ctx)).To(Succeed())
			Expect(f.WaitEffective(ctx)).To(MatchError(fault.ErrNotEffective))
			Expect(f.State()).To(Equal(fault.Injected))
		},
		Entry("partition", func(c *harness.Cluster) fault.Mode { return fault.Partition(c, "n1") }, SpecTimeout(time.Minute)),
		Entry("link loss", func(c *harness.Cluster) fault.Mode { return fault.LinkLoss(c, "n2", "n3", 30) }, SpecTimeout(time.Minute)),
		Entry("clock skew", func(c *harness.Cluster) fault.Mode { return fault.ClockSkew(c, "n2", 30*time.Second) }, SpecTimeout(time.Minute)),
		Entry("stop apply worker", func(c *harness.Cluster) fault.Mode { return fault.StopApply(c, "n2", "n3") }, SpecTimeout(time.Minute)),
	)

	DescribeTable("takes effect and heals",
		func(ctx SpecContext, mode func(*harness.Cluster) fault.Mode) {
			f := fault.New(mode(cluster), rec)
			Expect(f.InjectAndConfirm(ctx)).To(Succeed())
			Expect(f.HealAndConfirm(ctx)).To(Succeed())
		},
		Entry("partition", func(c *harness.Cluster) fault.Mode { return fault.Partition(c, "n1") }, SpecTimeout(3*time.Minute)),
		Entry("link loss", func(c *harness.Cluster) fault.Mode { return fault.LinkLoss(c, "n2", "n3", 30) }, SpecTimeout(2*time.Minute)),
		Entry("clock skew", func(c *harness.Cluster) fault.Mode { return fault.ClockSkew(c, "n2", -20*time.Second) }, SpecTimeout(2*time.Minute)),
		Entry("stop apply worker", func(c *harness.Cluster) fault.Mode { return fault.StopApply(c, "n2", "n3") }, SpecTimeout(3*time.Minute)),
	)

	It("leaves every node replicating, and no helper container behind", func(ctx SpecContext) {
		Expect(cluster.WaitReady(ctx, cluster.Nodes, time.Minute)).To(Succeed())
		out, err := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", "label="+harness.LabelSidecar,
			"--filter", "label="+harness.LabelRun+"="+cluster.RunID).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		Expect(strings.TrimSpace(string(out))).To(BeEmpty(), "helper containers left")
	}, SpecTimeout(2*time.Minute))
})
