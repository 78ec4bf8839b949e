package fault_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// Link, clock and replication-process faults share one cluster started
// with link proxies and libfaketime; each spec leaves it healed.
var _ = Describe("link, clock and replication-process faults", Label("e2e", "faults", "links"), Ordered, func() {
	var (
		cluster  *harness.Cluster
		rec      *history.Recorder
		histPath string
	)

	BeforeAll(func(ctx SpecContext) {
		cluster, rec, histPath = startRecordedClusterWith(ctx, harness.Config{LinkProxies: true, ClockSkew: true})
	}, NodeTimeout(5*time.Minute))

	AfterEach(func(ctx SpecContext) { dumpLogsOnFailure(ctx, cluster) }, NodeTimeout(30*time.Second))

	// effective runs f to healed and returns the detail of its effective event.
	effective := func(ctx SpecContext, f *fault.Fault) map[string]any {
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		ops := readHistory(rec, histPath)
		var detail map[string]any
		for i := len(ops) - 1; i >= 0 && detail == nil; i-- {
			if ops[i].Type == history.Fault && ops[i].F == f.Mode().Kind() {
				_, ev, ok := faultEvent(ops[i:i+1], f.Mode().Kind(), history.FaultEffective)
				if ok {
					detail = ev.Detail
				}
			}
		}
		Expect(detail).NotTo(BeNil(), "no effective event of %s", f)
		GinkgoWriter.Printf("%s effective: %v\n", f, detail)
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		return detail
	}

	DescribeTable("a no-op control fails its effect check",
		func(ctx SpecContext, mode func(*harness.Cluster) fault.Mode) {
			f := fault.New(noopInject{mode(cluster)}, rec)
			f.EffectTimeout = 3 * time.Second
			Expect(f.Inject(ctx)).To(Succeed())
			err := f.WaitEffective(ctx)
			GinkgoWriter.Printf("no-op %s: %v\n", f, err)
			Expect(err).To(MatchError(fault.ErrNotEffective))
			Expect(f.State()).To(Equal(fault.Injected))
		},
		Entry("link latency on one link", func(c *harness.Cluster) fault.Mode {
			return fault.LinkLatency(c, "n2", "n1", 800*time.Millisecond, 0)
		}, SpecTimeout(time.Minute)),
		Entry("link latency on every link of a node", func(c *harness.Cluster) fault.Mode {
			return fault.LinkLatency(c, "n3", "", 800*time.Millisecond, 0)
		}, SpecTimeout(time.Minute)),
		Entry("link bandwidth", func(c *harness.Cluster) fault.Mode { return fault.LinkBandwidth(c, "n2", "n1", 16) }, SpecTimeout(time.Minute)),
		Entry("link reset", func(c *harness.Cluster) fault.Mode { return fault.LinkReset(c, "n3", "n1") }, SpecTimeout(time.Minute)),
		Entry("link loss", func(c *harness.Cluster) fault.Mode { return fault.LinkLoss(c, "n2", "n3", 30) }, SpecTimeout(time.Minute)),
		Entry("slow link", func(c *harness.Cluster) fault.Mode { return fault.SlowLink(c, "n3", "n2") }, SpecTimeout(time.Minute)),
		Entry("clock skew", func(c *harness.Cluster) fault.Mode { return fault.ClockSkew(c, "n2", 30*time.Second) }, SpecTimeout(time.Minute)),
		Entry("kill walsender", func(c *harness.Cluster) fault.Mode { return fault.KillWalsender(c, "n1", "n2") }, SpecTimeout(time.Minute)),
		Entry("kill apply worker", func(c *harness.Cluster) fault.Mode { return fault.KillApply(c, "n3", "n2") }, SpecTimeout(time.Minute)),
		Entry("stop apply worker", func(c *harness.Cluster) fault.Mode { return fault.StopApply(c, "n2", "n3") }, SpecTimeout(time.Minute)),
	)

	It("delays one link in one direction: markers of n1 reach n2 late and n3 at once", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.LinkLatency(cluster, "n2", "n1", 800*time.Millisecond, 100*time.Millisecond), rec))
		during := d["arrival_ms_during"].(map[string]any)
		Expect(during["n1->n2"]).To(BeNumerically(">=", 700))
		Expect(during["n1->n3"]).To(BeNumerically("<", 400))
		Expect(d["compared_with"]).To(Equal("the unfaulted links"))
	}, SpecTimeout(2*time.Minute))

	It("delays every link of a node, both ways, and no other link", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.LinkLatency(cluster, "n3", "", 600*time.Millisecond, 0), rec))
		during := d["arrival_ms_during"].(map[string]any)
		for _, l := range []string{"n3->n1", "n3->n2", "n1->n3", "n2->n3"} {
			Expect(during[l]).To(BeNumerically(">=", 550), "link %s", l)
		}
		Expect(during["n1->n2"]).To(BeNumerically("<", 300))
	}, SpecTimeout(2*time.Minute))

	It("caps a link's bandwidth: a 64 KB marker takes seconds on it and not on the others", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.LinkBandwidth(cluster, "n2", "n1", 16), rec))
		during := d["arrival_ms_during"].(map[string]any)
		Expect(during["n1->n2"]).To(BeNumerically(">=", 2000))
	}, SpecTimeout(2*time.Minute))

	It("resets a link's connections: nothing crosses it until healed, then it replicates again", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.LinkReset(cluster, "n3", "n1"), rec))
		Expect(d).To(HaveKey("subscription_status"))
	}, SpecTimeout(3*time.Minute))

	It("drops packets of one link inside its subscriber: the rule's counter shows drops and the link still carries changes", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.LinkLoss(cluster, "n2", "n3", 30), rec))
		Expect(d["dropped_packets"]).To(HaveKeyWithValue("n3", BeNumerically(">", 0)))
	}, SpecTimeout(2*time.Minute))

	It("drops packets of every link into a node", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.LinkLoss(cluster, "n1", "", 30), rec))
		Expect(d["dropped_packets"]).To(And(HaveKeyWithValue("n2", BeNumerically(">", 0)), HaveKeyWithValue("n3", BeNumerically(">", 0))))
	}, SpecTimeout(2*time.Minute))

	It("slows a link into a lag while its subscription stays replicating", func(ctx SpecContext) {
		f := fault.New(fault.SlowLink(cluster, "n3", "n2"), rec)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		fromN2 := writeLedger(ctx, cluster.Node("n2"), rec, 5, 10)
		Eventually(func(ctx SpecContext) (int, error) {
			return countRows(ctx, cluster.Node("n1"), "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", fromN2)
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Equal(len(fromN2)))
		Expect(countRows(ctx, cluster.Node("n3"), "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", fromN2)).
			To(BeNumerically("<", len(fromN2)), "n3 got all of n2's writes at once through a slow link")
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		Eventually(func(ctx SpecContext) (int, error) {
			return countRows(ctx, cluster.Node("n3"), "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", fromN2)
		}).WithContext(ctx).WithTimeout(60 * time.Second).Should(Equal(len(fromN2)))
	}, SpecTimeout(3*time.Minute))

	It("partitions a node whose links go through proxies", func(ctx SpecContext) {
		effective(ctx, fault.New(fault.Partition(cluster, "n1"), rec))
	}, SpecTimeout(3*time.Minute))

	It("skews a node's clock: now() and its commit timestamps move, applied commits keep their origin's", func(ctx SpecContext) {
		for _, offset := range []time.Duration{30 * time.Second, -20 * time.Second} {
			d := effective(ctx, fault.New(fault.ClockSkew(cluster, "n2", offset), rec))
			Expect(d["now_offset_ms"]).To(BeNumerically("~", offset.Milliseconds(), 1500))
			Expect(d["commit_ts_offset_ms"]).To(BeNumerically("~", offset.Milliseconds(), 1500))
			Expect(d["applied_commit_ts_offset_ms"]).To(BeNumerically("~", 0, 1500))
		}
	}, SpecTimeout(3*time.Minute))

	It("kills only the walsender serving one peer", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.KillWalsender(cluster, "n1", "n2"), rec))
		Expect(d).To(HaveKeyWithValue("gone_from", "pg_stat_replication"))
	}, SpecTimeout(3*time.Minute))

	It("kills only one apply worker", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.KillApply(cluster, "n3", "n2"), rec))
		Expect(d).To(HaveKeyWithValue("gone_from", "pg_stat_activity"))
	}, SpecTimeout(3*time.Minute))

	It("freezes one apply worker: its link stalls while its subscription still says replicating", func(ctx SpecContext) {
		d := effective(ctx, fault.New(fault.StopApply(cluster, "n2", "n3"), rec))
		Expect(d).To(HaveKeyWithValue("process_state", "T"))
		Expect(d).To(HaveKeyWithValue("subscription_status", harness.Replicating))
	}, SpecTimeout(3*time.Minute))

	It("leaves every node replicating", func(ctx SpecContext) {
		Expect(cluster.WaitReady(ctx, cluster.Nodes, time.Minute)).To(Succeed())
	}, SpecTimeout(2*time.Minute))

	It("bypasses the link proxies (a kept cluster outlives them): with every proxy stopped, every link still replicates", func(ctx SpecContext) {
		Expect(cluster.BypassLinkProxies(ctx, time.Minute)).To(Succeed())
		for _, name := range cluster.Links().Names() {
			Expect(cluster.Links().SetEnabled(name, false)).To(Succeed()) // already stopped: proves nothing goes through them
		}
		fromN1 := writeLedger(ctx, cluster.Node("n1"), rec, 3, 10)
		Expect(cluster.WaitReady(ctx, cluster.Nodes, time.Minute)).To(Succeed())
		for _, n := range cluster.Nodes {
			Expect(countRows(ctx, n, "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", fromN1)).To(Equal(len(fromN1)), n.Name)
		}
	}, SpecTimeout(2*time.Minute))
})
