package reference

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

var _ = Describe("a survivor that dies during recovery", Label("e2e", "recovery"), Ordered, func() {
	const txns = 20000
	var cluster *harness.Cluster

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: recoverytest.LedgerSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed())
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, cluster.Node("n1"), "lost", txns, 1)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, cluster.Node("n2"), "SELECT count(*) FROM ledger", txns, time.Minute)).To(Succeed())
		Expect(recoverytest.Kill(ctx, cluster.Node("n1"))).To(Succeed())
	}, NodeTimeout(5*time.Minute))

	It("is named with the failing step in the result, and recovery on the remaining survivors completes", func(ctx SpecContext) {
		slotBefore, err := confirmedFlush(ctx, cluster.Node("n2"), recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1"))
		Expect(err).NotTo(HaveOccurred())
		first := recoverKillingTarget(ctx, cluster, "n1", "n3")
		Expect(first.err).To(HaveOccurred())
		Expect(first.res.Errors).To(ContainElement(SatisfyAll(ContainSubstring("on n3"), ContainSubstring("replay step"))))
		Expect(first.res.TransactionsRecovered).To(BeNumerically("<", txns), "the kill came too late to interrupt the replay")
		// The source's slot is released where it stood although its
		// target died.
		expectStream(first.res, "n2")
		expectSlotUnmoved(ctx, cluster.Node("n2"), recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1"), slotBefore)

		// Again on the remaining survivor alone: it completes.
		alone := recovery.Input{Failed: "n1", Flavor: "pglogical", StepTimeout: 30 * time.Second,
			Survivors: []recovery.Survivor{{Name: "n2", DSN: cluster.Node("n2").DSN}}}
		res, err := Reference{}.Recover(ctx, alone)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.NothingToRecover).To(BeTrue())

		// With n3 back after its crash, recovery resumes from what n3
		// durably holds: exactly the rest, and the survivors converge.
		dsn3, err := recoverytest.Restart(ctx, cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		n3 := *cluster.Node("n3")
		n3.DSN = dsn3
		held, err := recoverytest.LedgerRows(ctx, &n3)
		Expect(err).NotTo(HaveOccurred())
		both := recovery.Input{Failed: "n1", Flavor: "pglogical", StepTimeout: 30 * time.Second,
			Survivors: []recovery.Survivor{{Name: "n2", DSN: cluster.Node("n2").DSN}, {Name: "n3", DSN: dsn3}}}
		res, err = Reference{}.Recover(ctx, both)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(txns - len(held)))
		rows2, err := recoverytest.LedgerRows(ctx, cluster.Node("n2"))
		Expect(err).NotTo(HaveOccurred())
		rows3, err := recoverytest.LedgerRows(ctx, &n3)
		Expect(err).NotTo(HaveOccurred())
		Expect(rows3).To(Equal(rows2))
	}, SpecTimeout(3*time.Minute))
})

// recoveryOutcome is what one Recover call returned.
type recoveryOutcome struct {
	res *recovery.Result
	err error
}

// recoverKillingTarget runs reference recovery of failed and kills target
// once the replay has written its first row there.
func recoverKillingTarget(ctx context.Context, cluster *harness.Cluster, failed, target string) recoveryOutcome {
	in := recovery.InputFromCluster(cluster, failed)
	in.StepTimeout = 30 * time.Second
	done := make(chan recoveryOutcome, 1)
	go func() {
		res, err := Reference{}.Recover(ctx, in)
		done <- recoveryOutcome{res, err}
	}()
	Expect(recoverytest.WaitCount(ctx, cluster.Node(target), "SELECT least(count(*), 1) FROM ledger", 1, time.Minute)).To(Succeed())
	Expect(recoverytest.Kill(ctx, cluster.Node(target))).To(Succeed())
	var o recoveryOutcome
	Eventually(done).WithTimeout(2 * time.Minute).Should(Receive(&o))
	return o
}
