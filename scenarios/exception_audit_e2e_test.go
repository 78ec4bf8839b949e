package scenarios_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// exception-audit must be able to fail on a live Spock cluster: a clean
// exception_log passes (the control), a row planted in n2's as Spock 6.0
// writes a discard with no cause fails, named.
var _ = Describe("exception-audit on a live cluster", Label("e2e", "scenario", "spock"), func() {
	It("passes a clean Spock cluster, then fails naming a planted exception_log row", func(ctx SpecContext) {
		image := os.Getenv(recoverytest.SpockImageEnv)
		if image == "" {
			Skip(recoverytest.SpockSkipReason)
		}
		flavor, _ := harness.LookupFlavor("spock")
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 2, Flavor: flavor, Image: image, Schema: `CREATE TABLE ledger (id text PRIMARY KEY)`})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		var targets []verify.Target
		for _, n := range cluster.Nodes {
			targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
		}

		clean, capture := scenarios.ExceptionAudit(ctx, cluster, targets, nil)
		Expect(clean.Verdict).To(Equal(verify.Pass), clean.Summary)
		Expect(capture.Nodes).To(Equal([]string{"n1", "n2"}))

		conn, err := cluster.Node("n2").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, err = conn.Exec(ctx, `INSERT INTO spock.exception_log (remote_origin, remote_commit_ts, command_counter, retry_errored_at,
  remote_xid, table_schema, table_name, operation, error_message)
SELECT node_id, now(), 1, now(), 4242, 'public', 'ledger', 'INSERT',
  'transdiscard: tuple discarded due to exception (root cause not captured)' FROM spock.node WHERE node_name = 'n1'`)
		conn.Close(ctx)
		Expect(err).NotTo(HaveOccurred())

		got, _ := scenarios.ExceptionAudit(ctx, cluster, targets, nil)
		GinkgoWriter.Printf("exception-audit: %s: %s\n", got.Verdict, got.Summary)
		Expect(got.Verdict).To(Equal(verify.Fail), got.Summary)
		Expect(got.Summary).To(ContainSubstring("n2: " + cluster.Flavor.SubscriptionName("n2", "n1") + " (origin n1) remote xid 4242"))
		Expect(got.Summary).To(ContainSubstring("root cause not captured"))
	}, SpecTimeout(5*time.Minute))
})
