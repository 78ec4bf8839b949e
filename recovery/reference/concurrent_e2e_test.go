package reference

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

var _ = Describe("reference recovery started on every survivor at once", Label("e2e", "recovery"), func() {
	It("replays each lost transaction exactly once in total and the survivors converge", func(ctx SpecContext) {
		const txns = 300
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 3, Schema: recoverytest.LedgerSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed())
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, cluster.Node("n1"), "lost", txns, 2)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, cluster.Node("n2"), "SELECT count(*) FROM ledger", 2*txns, time.Minute)).To(Succeed())
		Expect(recoverytest.Kill(ctx, cluster.Node("n1"))).To(Succeed())

		// One run per survivor, as an operator would start it on each.
		in := recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		results := make([]*recovery.Result, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer GinkgoRecover()
				results[i], errs[i] = Reference{}.Recover(ctx, in)
			}()
		}
		wg.Wait()
		Expect(errs).To(HaveEach(BeNil()), "results: %+v / %+v", results[0], results[1])
		Expect(results[0].TransactionsRecovered + results[1].TransactionsRecovered).To(BeEquivalentTo(txns))
		rows2, err := recoverytest.LedgerRows(ctx, cluster.Node("n2"))
		Expect(err).NotTo(HaveOccurred())
		rows3, err := recoverytest.LedgerRows(ctx, cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rows2).To(HaveLen(2 * txns))
		Expect(rows3).To(Equal(rows2))
	}, SpecTimeout(4*time.Minute))
})
