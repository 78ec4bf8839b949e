package fault_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// workerFaultSpecs are the specs of the apply-worker faults (cancel the
// apply worker or the walsender idle or inside a transaction, kill the
// apply worker inside one, a deadlock with the apply worker), declared
// inside an Ordered container whose BeforeAll starts the cluster that
// cl returns, on either flavor. Each spec leaves the cluster healed.
func workerFaultSpecs(cl func() (*harness.Cluster, *history.Recorder, string)) {
	// effective runs f to healed and returns the details of its effective
	// and healed events.
	effective := func(ctx SpecContext, f *fault.Fault) (eff, healed map[string]any) {
		_, rec, histPath := cl()
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		ops := readHistory(rec, histPath)
		for i := len(ops) - 1; i >= 0 && (eff == nil || healed == nil); i-- {
			if _, ev, ok := faultEvent(ops[i:i+1], f.Mode().Kind(), history.FaultEffective); ok && eff == nil {
				eff = ev.Detail
			}
			if _, ev, ok := faultEvent(ops[i:i+1], f.Mode().Kind(), history.FaultHealed); ok && healed == nil {
				healed = ev.Detail
			}
		}
		Expect(eff).NotTo(BeNil(), "no effective event of %s", f)
		GinkgoWriter.Printf("%s effective: %v\nhealed: %v\n", f, eff, healed)
		return eff, healed
	}
	// healsOrDiscards is effective, except on Spock 6.0, which discards
	// the transaction its apply worker was ended or cancelled inside
	// (logged "Transaction discarded in TRANSDISCARD mode", with the
	// cancel's SQLSTATE 57014 as "Initial error" when cancelled; its rows
	// in spock.exception_log): there the heal check must fail, naming the
	// transaction that did not arrive, and the subscriber's log must say
	// why. When Spock keeps the transaction, this fails: drop the branch.
	healsOrDiscards := func(ctx SpecContext, f *fault.Fault, subscriber, cause string) (eff, healed map[string]any) {
		c, _, _ := cl()
		if c.Flavor.Name() != "spock" {
			return effective(ctx, f)
		}
		f.HealTimeout = 30 * time.Second
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		err := f.HealAndConfirm(ctx)
		GinkgoWriter.Printf("%s on Spock: %v\n", f, err)
		Expect(err).To(MatchError(fault.ErrNotHealed), "Spock kept the transaction: the discard may be fixed")
		Expect(err).To(MatchError(ContainSubstring("did not reach " + subscriber + " whole")))
		log, err := c.ServerLog(ctx, c.Node(subscriber))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(log)).To(ContainSubstring("Transaction discarded in TRANSDISCARD mode"))
		Expect(string(log)).To(ContainSubstring(cause))
		Expect(c.WaitReady(ctx, c.Nodes, time.Minute)).To(Succeed())
		return nil, nil
	}
	mode := func(make func(c *harness.Cluster) fault.Mode) *fault.Fault {
		c, rec, _ := cl()
		return fault.New(make(c), rec)
	}

	DescribeTable("a no-op control of an apply-worker fault fails its effect check",
		func(ctx SpecContext, make func(*harness.Cluster) fault.Mode) {
			c, rec, _ := cl()
			expectNoopNotEffective(ctx, make(c), rec)
		},
		Entry("cancel-apply in-txn", func(c *harness.Cluster) fault.Mode { return fault.CancelApply(c, "n2", "n1", fault.InTxn) }, SpecTimeout(time.Minute)),
		Entry("cancel-walsender idle", func(c *harness.Cluster) fault.Mode { return fault.CancelWalsender(c, "n1", "n3", fault.Idle) }, SpecTimeout(time.Minute)),
		Entry("kill-apply in-txn", func(c *harness.Cluster) fault.Mode { return fault.KillApplyInTxn(c, "n3", "n2") }, SpecTimeout(time.Minute)),
		Entry("lock-apply", func(c *harness.Cluster) fault.Mode { return fault.LockApply(c, "n3", "n1") }, SpecTimeout(time.Minute)),
	)

	It("cancels the walsender serving one peer while it is idle: the provider logs the cancel", func(ctx SpecContext) {
		eff, _ := effective(ctx, mode(func(c *harness.Cluster) fault.Mode { return fault.CancelWalsender(c, "n1", "n2", fault.Idle) }))
		Expect(eff["server_log"]).To(ContainSubstring("canceling statement due to user request"))
		Expect(eff["at_signal"]).To(HaveKeyWithValue("walsender_wait", "WalSenderWaitForWal"))
	}, SpecTimeout(3*time.Minute))

	It("cancels the walsender while it still sends a large transaction the apply worker has begun", func(ctx SpecContext) {
		eff, healed := effective(ctx, mode(func(c *harness.Cluster) fault.Mode { return fault.CancelWalsender(c, "n2", "n3", fault.InTxn) }))
		Expect(eff["server_log"]).To(ContainSubstring("canceling statement due to user request"))
		Expect(eff["at_signal"]).To(HaveKeyWithValue("apply_xid", true))
		Expect(healed).To(HaveKey("large_txn"))
	}, SpecTimeout(3*time.Minute))

	It("cancels the apply worker inside a transaction, held there by a local row lock (Spock: which it then discards)", func(ctx SpecContext) {
		eff, healed := healsOrDiscards(ctx, mode(func(c *harness.Cluster) fault.Mode { return fault.CancelApply(c, "n3", "n1", fault.InTxn) }),
			"n3", "Initial error: [SQLSTATE 57014] canceling statement due to user request")
		if eff == nil {
			return // Spock discarded it
		}
		Expect(eff["server_log"]).To(ContainSubstring("canceling statement due to user request"))
		Expect(eff["at_signal"]).To(HaveKeyWithValue("apply_wait", "Lock"))
		Expect(healed).To(HaveKey("held_rows"))
	}, SpecTimeout(3*time.Minute))

	It("cancels an idle apply worker on Spock; refuses it on pglogical, whose idle worker never acts on a cancel", func(ctx SpecContext) {
		c, _, _ := cl()
		f := mode(func(c *harness.Cluster) fault.Mode { return fault.CancelApply(c, "n1", "n2", fault.Idle) })
		if c.Flavor.Name() == "pglogical" {
			Expect(f.Inject(ctx)).To(MatchError(fault.ErrNotOnFlavor))
			return
		}
		eff, _ := effective(ctx, f)
		Expect(eff["at_signal"]).To(HaveKeyWithValue("apply_xact_open", false))
	}, SpecTimeout(3*time.Minute))

	It("kills the apply worker inside a large transaction, which then arrives whole (Spock: which it discards)", func(ctx SpecContext) {
		eff, healed := healsOrDiscards(ctx, mode(func(c *harness.Cluster) fault.Mode { return fault.KillApplyInTxn(c, "n2", "n1") }),
			"n2", "Transaction discarded") // SpockDiscardAfterTerm: no error, so no cause is logged
		if eff == nil {
			return
		}
		Expect(eff).To(HaveKeyWithValue("gone_from", "pg_stat_activity"))
		Expect(eff["at_signal"]).To(HaveKeyWithValue("apply_xid", true))
		Expect(healed).To(HaveKey("large_txn"))
	}, SpecTimeout(3*time.Minute))

	It("makes the apply worker a deadlock's victim and keeps it waiting for the local session", func(ctx SpecContext) {
		eff, healed := effective(ctx, mode(func(c *harness.Cluster) fault.Mode { return fault.LockApply(c, "n1", "n3") }))
		Expect(eff["server_log"]).To(ContainSubstring("deadlock detected"))
		Expect(eff["waits_for"]).To(HavePrefix("transactionid"))
		Expect(healed).To(HaveKey("held_rows"))
	}, SpecTimeout(3*time.Minute))

	It("makes the apply worker a deadlock's victim inside the caller's transaction, which it leaves to the caller (Spock 5.0.x: discarded)", func(ctx SpecContext) {
		c, _, _ := cl()
		txnID := newTxnID("n3-held")
		insert := func(seq int) func(context.Context, *pgx.Conn) error {
			return func(ctx context.Context, session *pgx.Conn) error {
				_, err := session.Exec(ctx, "INSERT INTO fault_ledger VALUES ($1, $2, 'n3', 'held')", txnID, seq)
				return err
			}
		}
		write := func(ctx context.Context) error {
			conn, err := c.Node("n3").Connect(ctx)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			_, err = conn.Exec(ctx, "INSERT INTO fault_ledger SELECT $1, g, 'n3', 'p' FROM generate_series(1, 200) g", txnID)
			return err
		}
		held := fault.HeldTxn{Block: insert(100), Write: write, Close: insert(1)}
		eff, healed := effective(ctx, mode(func(c *harness.Cluster) fault.Mode {
			return fault.WithHeldTxn(fault.LockApply(c, "n1", "n3"), func() fault.HeldTxn { return held })
		}))
		Expect(eff["server_log"]).To(ContainSubstring("deadlock detected"))
		Expect(eff["waits_for"]).To(HavePrefix("transactionid"))
		Expect(healed).NotTo(HaveKey("held_rows"), "the caller's transaction is the caller's to judge")
		q := fmt.Sprintf("SELECT count(*) FROM fault_ledger WHERE txn_id = '%s'", txnID)
		err := harness.WaitCount(ctx, c.Node("n1"), q, 200, 30*time.Second)
		if err != nil && c.Flavor.Name() == "spock" {
			log, lerr := c.ServerLog(ctx, c.Node("n1"))
			Expect(lerr).NotTo(HaveOccurred())
			Expect(string(log)).To(ContainSubstring("deadlock detected"), "lost without the deadlock: %v", err)
			Expect(string(log)).To(MatchRegexp(`(?i)transaction discarded.*40P01`), "lost without a discard: %v", err)
			return // SpockDiscardDeadlockVictim (5.0.x)
		}
		Expect(err).NotTo(HaveOccurred())
	}, SpecTimeout(3*time.Minute))

	It("leaves every node replicating", func(ctx SpecContext) {
		c, _, _ := cl()
		Expect(c.WaitReady(ctx, c.Nodes, time.Minute)).To(Succeed())
	}, SpecTimeout(2*time.Minute))
}
