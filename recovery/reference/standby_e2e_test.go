package reference

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

var _ = Describe("a recovery standby", Label("e2e", "recovery"), func() {
	It("hands the connections it kept to the recovery, and a pair gone stale (its node restarted) is replaced by new logins", func(ctx SpecContext) {
		const lost = 25
		cluster := startLedgerCluster(ctx, "pglogical", "")
		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		Expect(recoverytest.WriteLedger(ctx, n1, "before", 5, 1)).To(Succeed())
		for _, n := range []string{"n2", "n3"} {
			Expect(recoverytest.WaitCount(ctx, cluster.Node(n), "SELECT count(*) FROM ledger WHERE txn_id LIKE 'before-%'", 5, time.Minute)).To(Succeed())
		}
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, n1, "lost", lost, 2)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n2, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'lost-%'", 2*lost, time.Minute)).To(Succeed())
		Expect(recoverytest.Kill(ctx, n1)).To(Succeed())

		in := recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		standby := &slots.Standby{Members: func() []recovery.Survivor { return in.Survivors }}
		DeferCleanup(standby.Close)
		standby.Round(ctx)
		for _, n := range []string{"n2", "n3"} {
			pair, repl := standby.Holds(n)
			Expect(pair).To(BeTrue(), "pair kept for %s", n)
			Expect(repl).To(BeTrue(), "replication connection kept for %s", n)
		}

		By("killing and restarting n3: the pair kept for it goes stale")
		Expect(recoverytest.Kill(ctx, n3)).To(Succeed())
		dsn, err := recoverytest.Restart(ctx, n3)
		Expect(err).NotTo(HaveOccurred())
		n3.DSN = dsn
		for i := range in.Survivors {
			if in.Survivors[i].Name == "n3" {
				in.Survivors[i].DSN = dsn
			}
		}
		in.Standby = standby
		res, err := Reference{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		AddReportEntry("recovery result", res)
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(lost))
		expectStream(res, "n2")
		what := map[string][]string{}
		for _, a := range res.Actions {
			what[a.Node] = append(what[a.Node], a.What)
		}
		Expect(what["n2"]).To(ContainElement("replication connection kept open ahead"))
		Expect(what["n2"]).NotTo(ContainElement(HavePrefix("open a replication connection")), "n2 logged in again")
		Expect(what["n3"]).To(ContainElements(
			"session kept open ahead no longer answers: log in again",
			"replication connection kept open ahead no longer answers: log in again",
			"open a replication connection"))
		Expect(standby.Take("n2")).To(BeNil(), "a pair serves one recovery")
		missing, err := recoverytest.MissingTxns(ctx, n2, n3)
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(BeEmpty())
	}, SpecTimeout(3*time.Minute))
})
