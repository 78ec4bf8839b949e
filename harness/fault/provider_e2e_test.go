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

// largeRows is the size of the transaction the provider faults land in:
// its apply takes seconds, so "mid-stream" is reliable.
const largeRows = 100000

// describeProviderFaults adds the specs of the provider and subscription
// faults (restart-provider, stall-provider, sub-restart-cycle,
// sub-option-cycle) to an Ordered container whose BeforeAll starts the
// cluster get returns; each spec leaves it healed.
func describeProviderFaults(get func() (*harness.Cluster, *history.Recorder, string)) {
	// lastDetail is the detail of the last event of kind in phase.
	lastDetail := func(rec *history.Recorder, path, kind string, phase history.FaultPhase) map[string]any {
		ops := readHistory(rec, path)
		for i := len(ops) - 1; i >= 0; i-- {
			if _, ev, ok := faultEvent(ops[i:i+1], kind, phase); ok {
				return ev.Detail
			}
		}
		Fail("no " + string(phase) + " event of " + kind)
		return nil
	}
	// largeMidStream commits a large transaction on provider and waits
	// until subscriber's apply worker is inside it.
	largeMidStream := func(ctx context.Context, c *harness.Cluster, rec *history.Recorder, provider, subscriber string) string {
		txn := writeLedger(ctx, c.Node(provider), rec, 1, largeRows)[0]
		_, err := fault.WaitApplyInTxn(ctx, c, subscriber, provider, 30*time.Second)
		Expect(err).NotTo(HaveOccurred())
		return txn
	}
	hasWhole := func(ctx context.Context, c *harness.Cluster, txn string) {
		for _, n := range c.Nodes {
			Eventually(func(ctx context.Context) (int, error) {
				return countRows(ctx, n, "SELECT count(*) FROM fault_ledger WHERE txn_id = $1", txn)
			}).WithContext(ctx).WithTimeout(2*time.Minute).Should(Equal(largeRows), "%s lacks rows of %s", n.Name, txn)
		}
	}

	DescribeTable("a no-op provider or subscription fault fails its effect check",
		func(ctx SpecContext, mode func(*harness.Cluster) fault.Mode) {
			c, rec, _ := get()
			expectNoopNotEffective(ctx, mode(c), rec)
		},
		Entry("restart provider", func(c *harness.Cluster) fault.Mode { return fault.RestartProvider(c, "n1") }, SpecTimeout(time.Minute)),
		Entry("stall provider", func(c *harness.Cluster) fault.Mode { return fault.StallProvider(c, "n1", "n2") }, SpecTimeout(time.Minute)),
		Entry("subscription restart cycle", func(c *harness.Cluster) fault.Mode { return fault.SubRestartCycle(c, "n3", "n2", 2) }, SpecTimeout(time.Minute)),
		Entry("subscription option cycle", func(c *harness.Cluster) fault.Mode { return fault.SubOptionCycle(c, "n2", "n3", 2) }, SpecTimeout(time.Minute)),
	)

	It("restarts a provider gracefully mid-stream: clean shutdown log, new postmaster, every link back with a new walsender", func(ctx SpecContext) {
		c, rec, path := get()
		txn := largeMidStream(ctx, c, rec, "n1", "n2")
		f := fault.New(fault.RestartProvider(c, "n1"), rec)
		f.EffectTimeout = time.Minute
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		d := lastDetail(rec, path, "restart-provider", history.FaultEffective)
		GinkgoWriter.Printf("restart-provider effective: %v\n", d)
		Expect(d["log"]).To(ContainElement(ContainSubstring("database system is shut down")))
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		h := lastDetail(rec, path, "restart-provider", history.FaultHealed)
		GinkgoWriter.Printf("restart-provider healed: %v\n", h)
		Expect(h["walsenders_after"]).To(HaveLen(2))
		hasWhole(ctx, c, txn)
	}, SpecTimeout(5*time.Minute))

	It("stalls a provider's walsender mid-transaction: that link carries nothing while the others do, then resumes", func(ctx SpecContext) {
		c, rec, path := get()
		txn := largeMidStream(ctx, c, rec, "n2", "n3")
		f := fault.New(fault.StallProvider(c, "n2", "n3"), rec)
		f.EffectTimeout = time.Minute // n1's marker arrives once n1 applied the large transaction
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		d := lastDetail(rec, path, "stall-provider", history.FaultEffective)
		GinkgoWriter.Printf("stall-provider effective: %v\n", d)
		Expect(d).To(HaveKeyWithValue("process_state", "T"))
		Expect(d).To(HaveKeyWithValue("not_reached", "n3"))
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		hasWhole(ctx, c, txn)
	}, SpecTimeout(4*time.Minute))

	DescribeTable("restarts a subscription's apply worker again and again under load, then it replicates",
		func(ctx SpecContext, mode func(*harness.Cluster) fault.Mode, disabled bool) {
			c, rec, path := get()
			stop, acks := ledgerClients(c.Node("n1"), rec, 2, 10)
			Eventually(acks.Load).WithTimeout(30*time.Second).Should(BeNumerically(">=", 4), "n1's clients never got going")
			f := fault.New(mode(c), rec)
			Expect(f.InjectAndConfirm(ctx)).To(Succeed())
			stop()
			d := lastDetail(rec, path, f.Mode().Kind(), history.FaultEffective)
			GinkgoWriter.Printf("%s effective: %v\n", f, d)
			Expect(d["pids"]).To(HaveLen(3))
			if disabled {
				Expect(d["statuses_disabled"]).To(HaveLen(3))
			}
			Expect(f.HealAndConfirm(ctx)).To(Succeed())
			Expect(c.Barrier(ctx, c.Nodes, time.Minute)).To(Succeed())
		},
		Entry("by disable and enable", func(c *harness.Cluster) fault.Mode { return fault.SubRestartCycle(c, "n3", "n1", 3) }, true, SpecTimeout(5*time.Minute)),
		Entry("by switching its provider interface", func(c *harness.Cluster) fault.Mode { return fault.SubOptionCycle(c, "n2", "n1", 3) }, false, SpecTimeout(5*time.Minute)),
	)
}
