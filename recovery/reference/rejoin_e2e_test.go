package reference

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
)

// The rejoin specs run on pglogical always and on Spock when an image is
// named: F is killed after a survivor fell behind it, recovered, then
// restarted and resubscribed. F must catch up, and nothing recovery
// replayed may be applied again when F's subscriptions resume.
var _ = Describe("rejoin after reference recovery on pglogical", Label("e2e", "recovery"), Ordered, func() {
	rejoinSpecs("pglogical", "")
})

var _ = Describe("rejoin after reference recovery on Spock", Label("e2e", "recovery", "spock"), Ordered, func() {
	rejoinSpecs("spock", os.Getenv(recoverytest.SpockImageEnv))
})

func rejoinSpecs(flavorName, image string) {
	const lost = 30
	var (
		cluster *harness.Cluster
		in      recovery.Input
	)
	BeforeAll(func(ctx SpecContext) {
		cluster = startLedgerCluster(ctx, flavorName, image)
		n1 := cluster.Node("n1")
		Expect(recoverytest.WriteLedger(ctx, n1, "before", 5, 2)).To(Succeed())
		for _, n := range []string{"n2", "n3"} {
			Expect(recoverytest.WaitCount(ctx, cluster.Node(n), "SELECT count(*) FROM ledger WHERE txn_id LIKE 'before-%'", 10, 30*time.Second)).To(Succeed())
		}
		_, err := recoverytest.AdvanceSlots(ctx, recoverytest.SlotNodesOf(cluster, cluster.Nodes), func(ctx context.Context) error {
			return cluster.Barrier(ctx, cluster.Nodes, 30*time.Second)
		})
		Expect(err).NotTo(HaveOccurred())
		in = recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
	}, NodeTimeout(5*time.Minute))

	// lagKill makes n3 lack `lost` transactions of n1 that n2 has, and
	// kills n1.
	lagKill := func(ctx context.Context, prefix string) {
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, cluster.Node("n1"), prefix, lost, 3)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, cluster.Node("n2"), fmt.Sprintf("SELECT count(*) FROM ledger WHERE txn_id LIKE '%s-%%'", prefix), 3*lost, 30*time.Second)).To(Succeed())
		Expect(recoverytest.Kill(ctx, cluster.Node("n1"))).To(Succeed())
	}

	// rejoin restarts n1, resubscribes n2 and n3 to it, waits until the
	// whole mesh replicates, and writes on n1 to prove it flows again.
	rejoin := func(ctx context.Context, prefix string) {
		n1 := cluster.Node("n1")
		dsn, err := recoverytest.Restart(ctx, n1)
		Expect(err).NotTo(HaveOccurred())
		n1.DSN = dsn
		for _, n := range []string{"n2", "n3"} {
			Expect(recoverytest.Enable(ctx, cluster, n, "n1")).To(Succeed())
		}
		Expect(cluster.WaitReplicating(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, n1, prefix, 5, 1)).To(Succeed())
		Expect(cluster.Barrier(ctx, cluster.Nodes, time.Minute)).To(Succeed())
	}

	It("replays exactly what n3 lacks, and after n1 rejoins every row exists once, unapplied again, on all three nodes", func(ctx SpecContext) {
		lagKill(ctx, "lost")
		missing, err := recoverytest.MissingTxns(ctx, cluster.Node("n2"), cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(HaveLen(lost))

		res, err := Reference{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(lost), "actions: %+v", res.Actions)
		Expect(res.RowsRecovered).To(BeEquivalentTo(3 * lost))
		Expect(res.Progress).To(HaveLen(2))
		Expect(res.Progress[0].After).To(Equal(res.Progress[1].After), "survivors' progress for n1 after recovery")
		missing, err = recoverytest.MissingTxns(ctx, cluster.Node("n2"), cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(BeEmpty())
		AddReportEntry("recovery result", res)

		replayed, err := recoverytest.LedgerXmins(ctx, cluster.Node("n3"), "lost-")
		Expect(err).NotTo(HaveOccurred())
		Expect(replayed).To(HaveLen(3 * lost))

		conflicts, err := recoverytest.ConflictsOn(ctx, cluster, "n3", "lost-")
		Expect(err).NotTo(HaveOccurred())
		rejoin(ctx, "rejoined")
		after, err := recoverytest.LedgerXmins(ctx, cluster.Node("n3"), "lost-")
		Expect(err).NotTo(HaveOccurred())
		Expect(recoverytest.Reapplied(replayed, after)).To(BeEmpty(), "rows recovery replayed on n3 were applied again when n1 returned")
		Expect(recoverytest.ConflictsOn(ctx, cluster, "n3", "lost-")).To(Equal(conflicts), "n1 sent n3 rows recovery had replayed (conflicts in n3's log)")
		want, err := recoverytest.LedgerRows(ctx, cluster.Node("n1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(want).To(HaveLen(10 + 3*lost + 5))
		for _, n := range []string{"n2", "n3"} {
			got, err := recoverytest.LedgerRows(ctx, cluster.Node(n))
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want), "ledger of %s differs from n1's after the rejoin", n)
		}
	}, SpecTimeout(5*time.Minute))

	It("catches bookkeeping broken on purpose: with n3's progress for n1 rewound after recovery, the rejoin applies the replayed rows again", func(ctx SpecContext) {
		lagKill(ctx, "again")
		in = recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		var before string
		res, err := Reference{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(lost))
		for _, p := range res.Progress {
			if p.Node == "n3" {
				before = p.Before
			}
		}
		Expect(before).NotTo(BeEmpty())
		replayed, err := recoverytest.LedgerXmins(ctx, cluster.Node("n3"), "again-")
		Expect(err).NotTo(HaveOccurred())

		By("rewinding n3's origin for n1 to where it was before recovery (" + before + ")")
		conn, err := cluster.Node("n3").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		q := fmt.Sprintf("SELECT pg_replication_origin_advance(sub_slot_name, $1::pg_lsn) FROM %s.subscription WHERE sub_name = $2", pgx.Identifier{flavorName}.Sanitize())
		_, err = conn.Exec(ctx, q, before, cluster.Flavor.SubscriptionName("n3", "n1"))
		conn.Close(ctx)
		Expect(err).NotTo(HaveOccurred())

		conflicts, err := recoverytest.ConflictsOn(ctx, cluster, "n3", "again-")
		Expect(err).NotTo(HaveOccurred())
		rejoin(ctx, "rejoined-again")
		after, err := recoverytest.LedgerXmins(ctx, cluster.Node("n3"), "again-")
		Expect(err).NotTo(HaveOccurred())
		// Sent again, a row is either applied again (new version) or
		// resolved as a conflict (logged): the checks must see one of them.
		reapplied := recoverytest.Reapplied(replayed, after)
		now, err := recoverytest.ConflictsOn(ctx, cluster, "n3", "again-")
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("resent rows: %d applied again, %d conflicts logged\n", len(reapplied), now-conflicts)
		Expect(len(reapplied)+now-conflicts).To(BeNumerically(">=", 3*lost), "the checks must see n1 resending what recovery already replayed")
	}, SpecTimeout(5*time.Minute))

	It("never advances progress over a stream that lacks the failed node's transactions the target needs: n3's progress and data stay as they were", func(ctx SpecContext) {
		lagKill(ctx, "unseen")
		n2, n3 := cluster.Node("n2"), cluster.Node("n3")
		By("moving n2's recovery slot for n1 past everything it holds of n1, as a broken slot bookkeeping would")
		conn, err := n2.Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, err = conn.Exec(ctx, "SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())", recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1"))
		conn.Close(ctx)
		Expect(err).NotTo(HaveOccurred())
		progress := func() string {
			conn, err := n3.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			defer conn.Close(ctx)
			var lsn string
			q := fmt.Sprintf("SELECT remote_lsn::text FROM pg_replication_origin_status s JOIN %s.subscription sub ON sub.sub_slot_name = s.external_id WHERE sub.sub_name = $1", pgx.Identifier{flavorName}.Sanitize())
			Expect(conn.QueryRow(ctx, q, cluster.Flavor.SubscriptionName("n3", "n1")).Scan(&lsn)).To(Succeed())
			return lsn
		}
		before := progress()

		in = recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		res, err := Reference{}.Recover(ctx, in)
		// Depending on where the slot landed, the clone holds none of n1's
		// transactions, or only the last: either way not those n3 needs.
		Expect(err).To(MatchError(Or(ContainSubstring("held no transaction of n1"), ContainSubstring("starts after the target's position for the failed node"))), "result: %+v", res)
		Expect(res.TransactionsRecovered).To(BeZero())
		Expect(progress()).To(Equal(before), "n3's progress for n1 moved over transactions it never received")
		missing, err := recoverytest.MissingTxns(ctx, n2, n3)
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(HaveLen(lost), "n3 still lacks exactly the unseen transactions")
	}, SpecTimeout(5*time.Minute))
}
