package fault_test

import (
	"context"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// These specs kill and stop nodes, so they get a cluster of their own.
var _ = Describe("killing and restarting nodes", Label("e2e", "faults"), Ordered, func() {
	var (
		cluster  *harness.Cluster
		rec      *history.Recorder
		histPath string
		kill     *fault.Fault
		n1OK     []string // txn ids n1's clients got ok for before the kill
		written  []string // txn ids written on n2 while n1 was down
	)

	BeforeAll(func(ctx SpecContext) {
		cluster, rec, histPath = startRecordedCluster(ctx)
	}, NodeTimeout(5*time.Minute))

	AfterEach(func(ctx SpecContext) { dumpLogsOnFailure(ctx, cluster) }, NodeTimeout(30*time.Second))

	It("kills a node mid-transaction: it refuses connections and its in-flight ops end as info or fail", func(ctx SpecContext) {
		n1 := cluster.Node("n1")
		stopN1, acksN1 := ledgerClients(n1, rec, 4, 50)
		stopN2, _ := ledgerClients(cluster.Node("n2"), rec, 1, 50)
		Eventually(acksN1.Load).WithTimeout(30*time.Second).Should(BeNumerically(">=", 8), "n1's clients never got going")
		var inFlight int
		var err error
		kill, inFlight, err = fault.KillInFlight(ctx, cluster, "n1", rec, 10*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(inFlight).To(BeNumerically(">", 0))
		Expect(kill.WaitEffective(ctx)).To(Succeed())
		stopN1()
		stopN2()
		Expect(rec.InFlight("n1")).To(BeZero())

		st, err := n1.Container.State(ctx)
		Expect(err).NotTo(HaveOccurred(), "the killed container must stay for its logs and data")
		Expect(st.Running).To(BeFalse())
		Expect(st.ExitCode).To(Equal(137))
		_, err = pgx.Connect(ctx, n1.DSN)
		Expect(err).To(HaveOccurred())

		ops := readHistory(rec, histPath)
		start, ev, ok := faultEvent(ops, "kill", history.FaultStart)
		Expect(ok).To(BeTrue(), "no kill start event")
		Expect(start.Node).To(Equal("n1"))
		Expect(ev.Detail).To(HaveKeyWithValue("in_flight_at_kill", BeNumerically("==", inFlight)))
		effective, effEv, ok := faultEvent(ops, "kill", history.FaultEffective)
		Expect(ok).To(BeTrue(), "no kill effective event")
		Expect(effEv.Detail).To(HaveKeyWithValue("signal_via", BeElementOf("host", "engine")))
		if os.Geteuid() == 0 && os.Getenv("DOCKER_HOST") == "" {
			// root on the engine's own host: the signal must go direct.
			Expect(effEv.Detail).To(HaveKeyWithValue("signal_via", "host"))
		}

		// The ops in flight at the kill ended info or fail (one may still
		// have been acknowledged in the milliseconds the signal took), and
		// nothing on n1 was acknowledged once it was confirmed dead.
		invokedBefore := map[string]bool{}
		cutOff := 0
		for _, op := range ops {
			if op.Node != "n1" || op.F != "ledger-txn" {
				continue
			}
			switch {
			case op.Type == history.Invoke && op.Index < start.Index:
				invokedBefore[op.Process+op.TxnID] = true
			case op.Type == history.Ok && op.Index < start.Index:
				n1OK = append(n1OK, op.TxnID)
			case op.Type != history.Invoke && op.Index > start.Index:
				if op.Index > effective.Index {
					Expect(op.Type).NotTo(Equal(history.Ok), "op %d was acknowledged after n1 was confirmed dead", op.Index)
				}
				if invokedBefore[op.Process+op.TxnID] && (op.Type == history.Info || op.Type == history.Fail) {
					cutOff++
				}
			}
		}
		Expect(cutOff).To(BeNumerically(">", 0), "no op in flight at the kill ended info or fail")
		Expect(n1OK).NotTo(BeEmpty())
	}, SpecTimeout(2*time.Minute))

	It("restarts the killed node: it keeps its acknowledged data and catches up with rows written while it was down", func(ctx SpecContext) {
		Expect(kill).NotTo(BeNil())
		written = writeLedger(ctx, cluster.Node("n2"), rec, 20, 10)
		Expect(kill.HealAndConfirm(ctx)).To(Succeed())
		n1 := cluster.Node("n1")
		Eventually(func(ctx context.Context) (int, error) {
			return countRows(ctx, n1, "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", written)
		}).WithContext(ctx).WithTimeout(60 * time.Second).Should(Equal(len(written)))
		Expect(countRows(ctx, n1, "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", n1OK)).
			To(Equal(len(n1OK)), "n1 lost transactions it acknowledged before the kill")
		ops := readHistory(rec, histPath)
		_, ev, ok := faultEvent(ops, "kill", history.FaultHealed)
		Expect(ok).To(BeTrue())
		Expect(ev.Detail).To(HaveKey("replicating_after_ms"))
		GinkgoWriter.Printf("kill healed: %v\n", ev.Detail)
	}, SpecTimeout(3*time.Minute))

	It("kills a node while a large transaction is committing: COMMIT ends with a connection error (info), and the transaction is all or nothing", func(ctx SpecContext) {
		n2 := cluster.Node("n2")
		conn, err := n2.Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		commitSent := make(chan struct{})
		type result struct {
			op  history.Op
			err error
		}
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			op, err := ledgerTxn(conn, rec, "n2-c9", "n2", "large-txn", 20000, "slow-commit", 0, func() { close(commitSent) })
			done <- result{op, err}
		}()
		f, inFlight, err := fault.KillOnSignal(ctx, cluster, "n2", rec, commitSent, 300*time.Millisecond, 60*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(inFlight).To(BeNumerically(">=", 1))
		var r result
		Eventually(done).WithTimeout(30 * time.Second).Should(Receive(&r))
		Expect(r.err).To(HaveOccurred(), "COMMIT was acknowledged although the node was killed before it could finish")
		Expect(r.op.Type).To(Equal(history.Info))
		Expect(r.op.F).To(Equal("large-txn"))
		Expect(f.WaitEffective(ctx)).To(Succeed())

		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		Expect(cluster.Barrier(ctx, cluster.Nodes, time.Minute)).To(Succeed())
		counts := map[string]int{}
		for _, n := range cluster.Nodes {
			counts[n.Name], err = countRows(ctx, n, "SELECT count(*) FROM fault_ledger WHERE txn_id = $1", r.op.TxnID)
			Expect(err).NotTo(HaveOccurred())
			Expect(counts[n.Name]).To(BeElementOf(0, 20000), "a partial transaction on %s", n.Name)
		}
		Expect(counts["n1"]).To(Equal(counts["n2"]))
		Expect(counts["n3"]).To(Equal(counts["n2"]))
	}, SpecTimeout(4*time.Minute))

	It("stops a node cleanly (exit code 0) and restarts it", func(ctx SpecContext) {
		f := fault.New(fault.Stop(cluster, "n3"), rec)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		st, err := cluster.Node("n3").Container.State(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.ExitCode).To(BeZero())
		written := writeLedger(ctx, cluster.Node("n1"), rec, 5, 10)
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		Eventually(func(ctx context.Context) (int, error) {
			return countRows(ctx, cluster.Node("n3"), "SELECT count(DISTINCT txn_id) FROM fault_ledger WHERE txn_id = ANY($1)", written)
		}).WithContext(ctx).WithTimeout(60 * time.Second).Should(Equal(len(written)))
	}, SpecTimeout(3*time.Minute))
})
