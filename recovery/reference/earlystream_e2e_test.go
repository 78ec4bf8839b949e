package reference

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
)

// The stream started before the fence serves only the plan it was made
// for: when the fence leaves another survivor ahead, that stream is
// dropped and the final source's streamed instead.
var _ = Describe("the stream started before the fence", Label("e2e", "recovery"), func() {
	It("is dropped when the survivor ahead changes before the fence, and the final source's slot replays exactly what the other lacks", func(ctx SpecContext) {
		const first, second = 20, 30
		cluster := startLedgerCluster(ctx, "pglogical", "")
		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		Expect(recoverytest.WriteLedger(ctx, n1, "before", 5, 1)).To(Succeed())
		for _, n := range []string{"n2", "n3"} {
			Expect(recoverytest.WaitCount(ctx, cluster.Node(n), "SELECT count(*) FROM ledger WHERE txn_id LIKE 'before-%'", 5, time.Minute)).To(Succeed())
		}

		By("lagging n3 behind n1 for the first transactions: n2 is ahead when the sessions open")
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, n1, "first", first, 1)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n2, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'first-%'", first, time.Minute)).To(Succeed())

		in := recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		beforeFence := func(ctx context.Context) error {
			By("before the fence: lagging n2, letting n3 catch up on every transaction of n1 and more (n1 is still up)")
			if err := recoverytest.Lag(ctx, cluster, "n2", "n1"); err != nil {
				return err
			}
			if err := recoverytest.Enable(ctx, cluster, "n3", "n1"); err != nil {
				return err
			}
			if err := recoverytest.WriteLedger(ctx, n1, "second", second, 1); err != nil {
				return err
			}
			return recoverytest.WaitCount(ctx, n3, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'first-%' OR txn_id LIKE 'second-%'", first+second, time.Minute)
		}
		slotsBefore := map[string]recovery.LSN{}
		for _, n := range []string{"n2", "n3"} {
			lsn, err := confirmedFlush(ctx, cluster.Node(n), recovery.RecoverySlotName(recovery.DefaultDB, n, "n1"))
			Expect(err).NotTo(HaveOccurred())
			slotsBefore[n] = lsn
		}
		res, err := Reference{beforeFence: beforeFence}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		AddReportEntry("recovery result", res)

		Expect(actionsOf(res, "start the stream before the fence: provisional source")).To(Equal([]string{"n2"}))
		Expect(res.Note).To(ContainSubstring("the stream started before the fence from n2 does not serve the final plan: started again"))
		Expect(res.PerPair).To(HaveLen(1))
		Expect(res.PerPair[0].Source).To(Equal("n3"))
		Expect(res.PerPair[0].Target).To(Equal("n2"))
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(second), "n2 lacked exactly the second transactions")
		expectStream(res, "n3")
		Expect(res.Progress).To(HaveLen(2))
		Expect(res.Progress[0].After).To(Equal(res.Progress[1].After))
		missing, err := recoverytest.MissingTxns(ctx, n3, n2)
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(BeEmpty())
		rows2, err := recoverytest.LedgerRows(ctx, n2)
		Expect(err).NotTo(HaveOccurred())
		rows3, err := recoverytest.LedgerRows(ctx, n3)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows2).To(HaveLen(5 + first + second))
		Expect(rows2).To(Equal(rows3))
		for n, before := range slotsBefore {
			expectSlotUnmoved(ctx, cluster.Node(n), recovery.RecoverySlotName(recovery.DefaultDB, n, "n1"), before)
		}
	}, SpecTimeout(3*time.Minute))
})
