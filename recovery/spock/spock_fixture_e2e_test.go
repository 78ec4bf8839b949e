package spock

import (
	"context"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
)

// These specs run the spock strategy against the TEST FIXTURE in
// testdata/spock_fixture.sql (plpgsql stand-ins for Spock's recovery-slot
// API on plain PostgreSQL nodes). They prove the runbook's mechanics only
// (call order, concurrency, timeouts, judging by effect); what real Spock
// does is checked by the Spock suite (make spock, SPOCKCHAOS_SPOCK_IMAGE).
var _ = Describe("the Spock recovery-slot runbook against a TEST FIXTURE", Label("e2e", "recovery"), Ordered, func() {
	var (
		cluster *harness.Cluster
		in      recovery.Input
	)
	// Two plain servers play survivors n2 and n3 of a cluster whose n1 died.
	names := []string{"n2", "n3"}

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.StartNodes(ctx, harness.Config{Nodes: 2})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		in = recovery.Input{Failed: "n1", Flavor: "spock", StepTimeout: 3 * time.Second}
		for i, n := range cluster.Nodes {
			in.Survivors = append(in.Survivors, recovery.Survivor{Name: names[i], DSN: n.DSN})
		}
	}, NodeTimeout(3*time.Minute))

	// install puts the fixture on both servers: n2 has applied n1 up to
	// 0/3000, n3 up to lsn3; n2 holds a leftover clone slot.
	install := func(ctx context.Context, lsn3 string, config string) {
		fixture, err := os.ReadFile("testdata/spock_fixture.sql")
		Expect(err).NotTo(HaveOccurred())
		for i, n := range cluster.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			name := names[i]
			origin := "spk_postgres_n1_sub_" + name + "_n1"
			lsn := map[string]string{"n2": "0/3000", "n3": lsn3}[name]
			for _, q := range []string{
				"DROP SCHEMA IF EXISTS spock CASCADE",
				"DROP TABLE IF EXISTS public.ledger",
				"SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin",
				"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots",
				string(fixture),
				config,
			} {
				_, err := conn.Exec(ctx, q)
				Expect(err).NotTo(HaveOccurred(), "on %s: %s", name, q)
			}
			_, err = conn.Exec(ctx, "INSERT INTO spock.subscription VALUES ($1, $2)", "sub_"+name+"_n1", origin)
			Expect(err).NotTo(HaveOccurred())
			_, err = conn.Exec(ctx, "SELECT pg_replication_origin_create($1)", origin)
			Expect(err).NotTo(HaveOccurred())
			_, err = conn.Exec(ctx, "SELECT pg_replication_origin_advance($1, $2::text::pg_lsn)", origin, lsn)
			Expect(err).NotTo(HaveOccurred())
			if name == "n2" {
				_, err = conn.Exec(ctx, "SELECT pg_create_logical_replication_slot('spk_recovery_postgres_clone_1', 'test_decoding')")
				Expect(err).NotTo(HaveOccurred())
			}
			conn.Close(ctx)
		}
	}
	calls := func(ctx context.Context, i int) []fixtureCall {
		conn, err := cluster.Nodes[i].Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT fn, args, started, ended FROM spock.fixture_calls ORDER BY id")
		Expect(err).NotTo(HaveOccurred())
		out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[fixtureCall])
		Expect(err).NotTo(HaveOccurred())
		return out
	}

	It("calls coordinate_cluster_recovery on every survivor at once, polls until no slot is in recovery, drops clones, and does not trust its `t`", func(ctx SpecContext) {
		install(ctx, "0/1000", "SELECT 1")
		res, err := Spock{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "a runbook that moves nothing is a finding about the system, not a harness error")
		Expect(res.Findings).To(ContainElement(ContainSubstring("still hold different parts of n1's transactions (moved 0 transactions)")))
		Expect(res.Calls).To(ContainElement(SatisfyAll(HaveField("Node", "n3"), HaveField("Function", "coordinate_cluster_recovery(49708)"), HaveField("Returned", "true"))))
		Expect(res.Note).To(ContainSubstring("recovery-slot API detected"))
		Expect(res.NothingToRecover).To(BeFalse())
		Expect(res.TransactionsRecovered).To(BeZero())

		c2, c3 := calls(ctx, 0), calls(ctx, 1)
		for _, c := range [][]fixtureCall{c2, c3} {
			Expect(len(c)).To(BeNumerically(">=", 4))
			Expect(c[0].Fn).To(Equal("coordinate_cluster_recovery"))
			Expect(c[0].Args).To(Equal("49708"), "failed node id looked up in spock.node")
			for _, later := range c[1:] {
				Expect(later.Fn).To(Equal("get_recovery_slot_info"))
			}
		}
		// Polled until the fixture stopped reporting a slot in recovery (after 2 polls).
		Expect(c2).To(HaveLen(4))
		// At the same time: each call started before the other ended.
		Expect(c2[0].Started.Before(c3[0].Ended)).To(BeTrue())
		Expect(c3[0].Started.Before(c2[0].Ended)).To(BeTrue())

		Expect(res.Clones).To(ConsistOf(recovery.Clone{Node: "n2", Slot: "spk_recovery_postgres_clone_1", Removed: true}))
		Expect(res.Actions).To(ContainElement(SatisfyAll(
			HaveField("Node", "n3"), HaveField("What", ContainSubstring("coordinate_cluster_recovery")), HaveField("Output", "true"))))
	}, SpecTimeout(time.Minute))

	It("counts what the runbook measurably moved, not what it claims", func(ctx SpecContext) {
		install(ctx, "0/1000", "UPDATE spock.fixture_config SET move_to = '0/3000'")
		res, err := Spock{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		// n3 got 3 rows in one transaction through its origin for n1; n2's
		// fixture moved rows as well, but n2 was already at 0/3000.
		Expect(res.PerPair).To(ContainElement(SatisfyAll(HaveField("Target", "n3"), HaveField("Transactions", BeEquivalentTo(1)), HaveField("Rows", BeEquivalentTo(3)))))
		Expect(res.Progress).To(ContainElement(recovery.Progress{Node: "n3", Origin: "spk_postgres_n1_sub_n3_n1", Before: "0/1000", After: "0/3000"}))
	}, SpecTimeout(time.Minute))

	It("reports a call that hangs as an error naming the node and step", func(ctx SpecContext) {
		install(ctx, "0/1000", "UPDATE spock.fixture_config SET sleep_s = 600")
		res, err := Spock{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Findings).To(ContainElement(SatisfyAll(ContainSubstring("coordinate_cluster_recovery(49708) step on n3"), ContainSubstring("hang"))))
	}, SpecTimeout(time.Minute))

	It("says nothing needed recovery when the survivors were level", func(ctx SpecContext) {
		install(ctx, "0/3000", "SELECT 1")
		res, err := Spock{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.NothingToRecover).To(BeTrue())
	}, SpecTimeout(time.Minute))
})

type fixtureCall struct {
	Fn      string
	Args    string
	Started time.Time
	Ended   time.Time
}
