package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// replication-health must be able to fail: a subscription disabled by
// hand, with no fault in the history, fails it, named; the same cluster
// before the disable passes (the control).
var _ = Describe("replication-health on a subscription disabled by hand", Label("e2e", "scenario"), func() {
	It("passes a healthy pglogical cluster, then fails naming the subscription disabled with no fault", func(ctx SpecContext) {
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 2, Schema: `CREATE TABLE items (id text PRIMARY KEY)`})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		survivors := []string{"n1", "n2"}

		healthy := scenarios.ReplicationHealth(ctx, cluster, survivors, nil)
		Expect(healthy.Verdict).To(Equal(verify.Pass), healthy.Summary)

		sub := cluster.Flavor.SubscriptionName("n2", "n1")
		conn, err := cluster.Node("n2").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, err = conn.Exec(ctx, "SELECT pglogical.alter_subscription_disable($1, true)", sub)
		conn.Close(ctx)
		Expect(err).NotTo(HaveOccurred())

		got := scenarios.ReplicationHealth(ctx, cluster, survivors, nil)
		GinkgoWriter.Printf("replication-health: %s: %s\n", got.Verdict, got.Summary)
		Expect(got.Verdict).To(Equal(verify.Fail), got.Summary)
		Expect(got.Summary).To(ContainSubstring("n2: " + sub + " disabled"))
		Expect(got.Summary).To(ContainSubstring("with no fault on it"))
	}, SpecTimeout(5*time.Minute))
})
