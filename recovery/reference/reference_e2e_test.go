package reference

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

// lostTxns is how many transactions of n1 reach n2 but not n3; afterTxns
// how many n2 commits after n1's kill.
const lostTxns, afterTxns = 40, 20

var _ = Describe("recovery of a killed node's transactions that one survivor lacks", Label("e2e", "recovery"), Ordered, func() {
	var (
		cluster *harness.Cluster
		in      recovery.Input
		written []string
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: recoverytest.LedgerSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed())
		Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed(), "PrepareSlots is idempotent")
		for _, n := range cluster.Nodes {
			Expect(slotCount(ctx, n, "spockchaos\\_postgres\\_"+n.Name+"\\_%")).To(Equal(2), "recovery slots on %s", n.Name)
		}

		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		// Something n3 does have from n1, so its progress is not 0/0.
		Expect(recoverytest.WriteLedger(ctx, n1, "before", 5, 2)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n3, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'before-%'", 10, 30*time.Second)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n2, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'before-%'", 10, 30*time.Second)).To(Succeed())

		By("advancing the recovery slots at a barrier: a failed barrier moves nothing, a passed one moves every slot")
		slot := recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1")
		start, err := confirmedFlush(ctx, n2, slot)
		Expect(err).NotTo(HaveOccurred())
		_, err = recoverytest.AdvanceSlots(ctx, recoverytest.SlotNodesOf(cluster, cluster.Nodes), func(context.Context) error { return errors.New("markers missing") })
		Expect(err).To(MatchError(ContainSubstring("barrier: markers missing")))
		Expect(confirmedFlush(ctx, n2, slot)).To(Equal(start))
		adv, err := recoverytest.AdvanceSlots(ctx, recoverytest.SlotNodesOf(cluster, cluster.Nodes), func(ctx context.Context) error {
			return cluster.Barrier(ctx, cluster.Nodes, 30*time.Second)
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(adv).To(HaveLen(3))
		for i, a := range adv {
			n := cluster.Nodes[i]
			Expect(a.Node).To(Equal(n.Name))
			Expect(a.Slots).To(Equal(2), "slots advanced on %s (each node wrote or applied the before-txns after its slots were made)", a.Node)
			to, err := recovery.ParseLSN(a.To)
			Expect(err).NotTo(HaveOccurred())
			for _, peer := range cluster.Nodes {
				if peer != n {
					Expect(confirmedFlush(ctx, n, recovery.RecoverySlotName(recovery.DefaultDB, n.Name, peer.Name))).To(BeNumerically(">=", to))
				}
			}
		}
		moved, err := confirmedFlush(ctx, n2, slot)
		Expect(err).NotTo(HaveOccurred())
		Expect(moved).To(BeNumerically(">", start), "n2's slot for n1 did not move")

		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		Expect(recoverytest.WriteLedger(ctx, n1, "lost", lostTxns, 3)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n2, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'lost-%'", 3*lostTxns, 30*time.Second)).To(Succeed())
		Expect(recoverytest.Kill(ctx, n1)).To(Succeed())
		// n2 goes on writing after n1's end: the stream of n2's slot can
		// stop past n1's last commit, before these.
		Expect(recoverytest.WriteLedger(ctx, n2, "after", afterTxns, 1)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n3, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'after-%'", afterTxns, 30*time.Second)).To(Succeed())
		for i := range lostTxns {
			written = append(written, fmt.Sprintf("lost-%d", i))
		}
		in = recovery.InputFromCluster(cluster, "n1")
		in.StepTimeout = 30 * time.Second
		_ = n2
	}, NodeTimeout(5*time.Minute))

	It("with none, leaves the divergence in place and n3's missing keys are exactly the lost transactions", func(ctx SpecContext) {
		res, err := recovery.None{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Strategy).To(Equal("none"))
		Expect(res.NothingToRecover).To(BeFalse(), "the control must never claim there was nothing to recover")
		Expect(res.Note).To(ContainSubstring("not attempted"))
		missing, err := recoverytest.MissingTxns(ctx, cluster.Node("n2"), cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).To(ConsistOf(written))
	}, SpecTimeout(time.Minute))

	It("with reference, replays exactly the lost transactions on n3 and the survivors end row-identical", func(ctx SpecContext) {
		slot := recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1")
		before, err := confirmedFlush(ctx, cluster.Node("n2"), slot)
		Expect(err).NotTo(HaveOccurred())
		res, err := Reference{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.NothingToRecover).To(BeFalse())
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(lostTxns))
		Expect(res.RowsRecovered).To(BeEquivalentTo(3 * lostTxns))
		Expect(res.PerPair).To(HaveLen(1))
		Expect(res.PerPair[0].Source).To(Equal("n2"))
		Expect(res.PerPair[0].Target).To(Equal("n3"))
		expectStream(res, "n2")
		Expect(res.Progress).To(HaveLen(2))
		Expect(res.Progress[0].After).To(Equal(res.Progress[1].After))

		rows2, err := recoverytest.LedgerRows(ctx, cluster.Node("n2"))
		Expect(err).NotTo(HaveOccurred())
		rows3, err := recoverytest.LedgerRows(ctx, cluster.Node("n3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rows2).To(HaveLen(3*lostTxns + 10 + afterTxns))
		Expect(rows3).To(Equal(rows2), "n3's ledger (with commit timestamps) differs from n2's")

		// The replayed rows carry n3's origin for n1, as if replicated.
		var n3Origin string
		for _, p := range res.Progress {
			if p.Node == "n3" {
				n3Origin = p.Origin
			}
		}
		Expect(n3Origin).To(HavePrefix("pgl_"))
		Expect(countWithOrigin(ctx, cluster.Node("n3"), "lost-%", n3Origin)).To(Equal(3 * lostTxns))
		AddReportEntry("recovery result", res)

		By("having streamed n2's slot only up to n1's last commit there, over n2's run-network address when the host reaches it, and left it where it stood")
		var endedEarly, via []string
		for _, a := range res.Actions {
			if strings.Contains(a.What, "ended past the last commit of n1") {
				endedEarly = append(endedEarly, a.Output)
			}
			if a.Node == "n2" && strings.HasPrefix(a.What, "open a replication connection") {
				via = append(via, a.Output)
			}
		}
		Expect(endedEarly).To(HaveLen(1), "n2 wrote %d transactions after n1's last commit: the stream should end before them", afterTxns)
		Expect(actionsOf(res, "start the stream before the fence: provisional source")).To(Equal([]string{"n2"}), "n2's stream started before the fence")
		Expect(res.Note).NotTo(ContainSubstring("started again"))
		if cluster.Node("n2").DirectDSN != "" {
			Expect(via).To(Equal([]string{"at its run-network address"}))
		}

		expectSlotUnmoved(ctx, cluster.Node("n2"), slot, before)
	}, SpecTimeout(2*time.Minute))

	It("run again (as auto, which picks reference on pglogical), recovers nothing and says so", func(ctx SpecContext) {
		auto := recovery.Auto{Reference: Reference{}} // on pglogical, auto asks nothing of Spock
		res, err := auto.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.Strategy).To(Equal("reference"))
		Expect(res.Note).To(HavePrefix("auto: chose reference"))
		Expect(res.Note).To(ContainSubstring("nothing to recover"))
		Expect(res.NothingToRecover).To(BeTrue())
		Expect(res.TransactionsRecovered).To(BeZero())
		expectStream(res, "")
	}, SpecTimeout(time.Minute))
})

// expectStream asserts that a reference recovery copied no slot and
// streamed only source's recovery slot for the failed node (none when
// source is "").
func expectStream(res *recovery.Result, source string) {
	GinkgoHelper()
	Expect(res.Clones).To(BeEmpty(), "the reference recovery copies no slot")
	if source == "" {
		Expect(res.Streams).To(BeEmpty())
		return
	}
	Expect(res.Streams).To(HaveLen(1), "one stream, of the source's slot, for every target")
	Expect(res.Streams[0].Node).To(Equal(source))
	Expect(res.Streams[0].Slot).To(Equal(recovery.RecoverySlotName(recovery.DefaultDB, source, res.FailedNode)))
}

// expectSlotUnmoved asserts that slot on n stands at before and that no
// session holds it any more (the stream's walsender lets go a moment
// after its session ends).
func expectSlotUnmoved(ctx context.Context, n *harness.Node, slot string, before recovery.LSN) {
	GinkgoHelper()
	Expect(confirmedFlush(ctx, n, slot)).To(Equal(before), "recovery moved %s on %s", slot, n.Name)
	Eventually(func(ctx context.Context) (bool, error) {
		conn, err := n.Connect(ctx)
		if err != nil {
			return false, err
		}
		defer conn.Close(ctx)
		var held bool
		err = conn.QueryRow(ctx, "SELECT active_pid IS NOT NULL FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&held)
		return held, err
	}).WithContext(ctx).WithTimeout(10*time.Second).Should(BeFalse(), "%s on %s still held", slot, n.Name)
}

// actionsOf lists the nodes of res's actions whose What starts with what.
func actionsOf(res *recovery.Result, what string) []string {
	var nodes []string
	for _, a := range res.Actions {
		if strings.HasPrefix(a.What, what) {
			nodes = append(nodes, a.Node)
		}
	}
	return nodes
}

func confirmedFlush(ctx context.Context, n *harness.Node, slot string) (recovery.LSN, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var lsn string
	if err := conn.QueryRow(ctx, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&lsn); err != nil {
		return 0, fmt.Errorf("slot %s on %s: %w", slot, n.Name, err)
	}
	return recovery.ParseLSN(lsn)
}

func slotCount(ctx context.Context, n *harness.Node, like string) (int, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var c int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE $1", like).Scan(&c)
	return c, err
}

func countWithOrigin(ctx context.Context, n *harness.Node, txnLike, origin string) (int, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var c int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM ledger l, pg_xact_commit_timestamp_origin(l.xmin) o
JOIN pg_replication_origin r ON r.roident = o.roident WHERE l.txn_id LIKE $1 AND r.roname = $2`, txnLike, origin).Scan(&c)
	return c, err
}
