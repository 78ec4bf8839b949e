package fault_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// These faults heal without losing a node, so they share one cluster;
// each spec leaves it healed and replicating.
var _ = Describe("faults that heal", Label("e2e", "faults"), Ordered, func() {
	var (
		cluster  *harness.Cluster
		rec      *history.Recorder
		histPath string
	)

	BeforeAll(func(ctx SpecContext) {
		cluster, rec, histPath = startRecordedCluster(ctx)
	}, NodeTimeout(5*time.Minute))

	AfterEach(func(ctx SpecContext) { dumpLogsOnFailure(ctx, cluster) }, NodeTimeout(30*time.Second))

	// hasTxns counts how many of ids node has (as whole transactions).
	hasTxns := func(ctx context.Context, node *harness.Node, ids []string) (int, error) {
		return countRows(ctx, node, "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", ids)
	}
	// staysWithout checks that node has none of ids for d.
	staysWithout := func(ctx context.Context, node *harness.Node, ids []string, d time.Duration) {
		Consistently(func(ctx context.Context) (int, error) { return hasTxns(ctx, node, ids) }).
			WithContext(ctx).WithTimeout(d).WithPolling(200*time.Millisecond).Should(BeZero(), "%s received transactions it must not", node.Name)
	}
	gets := func(ctx context.Context, node *harness.Node, ids []string) {
		Eventually(func(ctx context.Context) (int, error) { return hasTxns(ctx, node, ids) }).
			WithContext(ctx).WithTimeout(60*time.Second).Should(Equal(len(ids)), "%s never received the transactions", node.Name)
	}

	DescribeTable("a no-op control fails its effect check",
		func(ctx SpecContext, mode func(*harness.Cluster) fault.Mode) {
			f := fault.New(noopInject{mode(cluster)}, rec)
			f.EffectTimeout = 3 * time.Second
			Expect(f.Inject(ctx)).To(Succeed())
			Expect(f.WaitEffective(ctx)).To(MatchError(fault.ErrNotEffective))
			Expect(f.State()).To(Equal(fault.Injected))
		},
		Entry("kill", func(c *harness.Cluster) fault.Mode { return fault.Kill(c, "n1") }, SpecTimeout(time.Minute)),
		Entry("stop", func(c *harness.Cluster) fault.Mode { return fault.Stop(c, "n1") }, SpecTimeout(time.Minute)),
		Entry("pause", func(c *harness.Cluster) fault.Mode { return fault.Pause(c, "n1") }, SpecTimeout(time.Minute)),
		Entry("partition", func(c *harness.Cluster) fault.Mode { return fault.Partition(c, "n1") }, SpecTimeout(time.Minute)),
		Entry("lag", func(c *harness.Cluster) fault.Mode { return fault.Lag(c, "n3", "n1") }, SpecTimeout(time.Minute)),
	)

	Describe("apply-worker faults", Label("worker"), func() {
		workerFaultSpecs(func() (*harness.Cluster, *history.Recorder, string) { return cluster, rec, histPath })
	})

	It("pauses a node: a query times out, then after unpausing it answers again", func(ctx SpecContext) {
		f := fault.New(fault.Pause(cluster, "n2"), rec)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		probeCtx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := countRows(probeCtx, cluster.Node("n2"), "SELECT 1")
		cancel()
		Expect(err).To(HaveOccurred(), "a paused node answered")
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		Expect(countRows(ctx, cluster.Node("n2"), "SELECT 1")).To(Equal(1))
		ops := readHistory(rec, histPath)
		for _, phase := range []history.FaultPhase{history.FaultStart, history.FaultEffective, history.FaultHeal, history.FaultHealed} {
			_, _, ok := faultEvent(ops, "pause", phase)
			Expect(ok).To(BeTrue(), "no pause %s event", phase)
		}
	}, SpecTimeout(3*time.Minute))

	It("partitions a node from all others: its writes reach no one until healed, then everything converges", func(ctx SpecContext) {
		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		f := fault.New(fault.Partition(cluster, "n1"), rec)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		fromN1 := writeLedger(ctx, n1, rec, 5, 10) // host access to the cut-off node still works
		fromN2 := writeLedger(ctx, n2, rec, 5, 10)
		gets(ctx, n3, fromN2) // the majority side keeps replicating
		staysWithout(ctx, n2, fromN1, 2*time.Second)
		staysWithout(ctx, n3, fromN1, 0)
		staysWithout(ctx, n1, fromN2, 0)
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		for _, n := range cluster.Nodes {
			gets(ctx, n, fromN1)
			gets(ctx, n, fromN2)
		}
		Expect(cluster.Barrier(ctx, cluster.Nodes, time.Minute)).To(Succeed())
	}, SpecTimeout(4*time.Minute))

	It("partitions one pair: the two stop exchanging writes while the third node gets both, then they converge", func(ctx SpecContext) {
		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		f := fault.New(fault.PartitionPair(cluster, "n1", "n2"), rec)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		fromN1 := writeLedger(ctx, n1, rec, 3, 10)
		gets(ctx, n3, fromN1)
		staysWithout(ctx, n2, fromN1, 2*time.Second)
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		gets(ctx, n2, fromN1)
	}, SpecTimeout(4*time.Minute))

	It("lags one receiver behind one origin: the pair diverges while the others keep up, then catches up after healing", func(ctx SpecContext) {
		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		f := fault.New(fault.Lag(cluster, "n3", "n1"), rec)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		fromN1 := writeLedger(ctx, n1, rec, 5, 10)
		fromN2 := writeLedger(ctx, n2, rec, 5, 10)
		gets(ctx, n2, fromN1)
		gets(ctx, n3, fromN2) // only the one pair lags
		staysWithout(ctx, n3, fromN1, 2*time.Second)
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		gets(ctx, n3, fromN1)
		ops := readHistory(rec, histPath)
		_, ev, ok := faultEvent(ops, "lag", history.FaultEffective)
		Expect(ok).To(BeTrue())
		Expect(ev.Target).To(Equal([]string{"n3", "n1"}))
		Expect(ev.Detail).To(HaveKeyWithValue("not_reached", "n3"))
	}, SpecTimeout(3*time.Minute))

	describeProviderFaults(func() (*harness.Cluster, *history.Recorder, string) { return cluster, rec, histPath })
})
