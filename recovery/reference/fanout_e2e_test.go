package reference

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

var _ = Describe("reference recovery with two survivors behind the source", Label("e2e", "recovery"), func() {
	It("decodes the source's slot once and gives each target exactly what it lacks", func(ctx SpecContext) {
		const early, late = 30, 20
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 4, Schema: recoverytest.LedgerSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed())
		n1, n2 := cluster.Node("n1"), cluster.Node("n2")

		// n4 falls behind n1 first, n3 later: n4 lacks early and late, n3 late only.
		Expect(recoverytest.Lag(ctx, cluster, "n4", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, n1, "early", early, 2)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, cluster.Node("n3"), "SELECT count(*) FROM ledger WHERE txn_id LIKE 'early-%'", 2*early, time.Minute)).To(Succeed())
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, n1, "late", late, 2)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n2, "SELECT count(*) FROM ledger", 2*(early+late), time.Minute)).To(Succeed())
		Expect(recoverytest.Kill(ctx, n1)).To(Succeed())

		in := recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		slotBefore, err := confirmedFlush(ctx, n2, recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1"))
		Expect(err).NotTo(HaveOccurred())
		res, err := Reference{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		expectStream(res, "n2") // one stream of n2's slot serves both targets
		got := map[string]int64{}
		for _, p := range res.PerPair {
			Expect(p.Source).To(Equal("n2"))
			got[p.Target] = p.Transactions
		}
		Expect(got).To(Equal(map[string]int64{"n3": late, "n4": early + late}))
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(early + 2*late))

		rows2, err := recoverytest.LedgerRows(ctx, n2)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows2).To(HaveLen(2 * (early + late)))
		for _, name := range []string{"n3", "n4"} {
			rows, err := recoverytest.LedgerRows(ctx, cluster.Node(name))
			Expect(err).NotTo(HaveOccurred())
			Expect(rows).To(Equal(rows2), "%s's ledger (with commit timestamps) differs from n2's", name)
		}
		expectSlotUnmoved(ctx, n2, recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1"), slotBefore)
	}, SpecTimeout(4*time.Minute))

	It("when one target dies mid-replay, names it and completes the other", func(ctx SpecContext) {
		const txns = 20000
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 4, Schema: recoverytest.LedgerSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed())
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.Lag(ctx, cluster, "n4", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, cluster.Node("n1"), "lost", txns, 1)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, cluster.Node("n2"), "SELECT count(*) FROM ledger", txns, 2*time.Minute)).To(Succeed())
		Expect(recoverytest.Kill(ctx, cluster.Node("n1"))).To(Succeed())

		o := recoverKillingTarget(ctx, cluster, "n1", "n4")
		Expect(o.err).To(HaveOccurred())
		Expect(o.res.Errors).To(ContainElement(SatisfyAll(ContainSubstring("on n4"), ContainSubstring("replay step"))))
		Expect(o.res.Errors).NotTo(ContainElement(ContainSubstring("on n3")), "n3's replay must not suffer from n4's death")
		got := map[string]int64{}
		for _, p := range o.res.PerPair {
			got[p.Target] = p.Transactions
		}
		Expect(got["n3"]).To(BeEquivalentTo(txns))
		Expect(got["n4"]).To(BeNumerically("<", txns), "the kill came too late to interrupt n4's replay")
		expectStream(o.res, "n2")
		rows2, err := recoverytest.LedgerRows(ctx, cluster.Node("n2"))
		Expect(err).NotTo(HaveOccurred())
		rows3, err := recoverytest.LedgerRows(ctx, cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rows3).To(Equal(rows2))
	}, SpecTimeout(5*time.Minute))
})
