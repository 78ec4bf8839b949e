package workload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// syncBuffer is a bytes.Buffer the recorder and the spec may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func allSchemas() string {
	var parts []string
	for _, name := range []string{"ledger", "bank", "hotkey", "ycsb", "conflict"} {
		w, err := workload.Lookup(name)
		Expect(err).NotTo(HaveOccurred())
		parts = append(parts, w.Schema())
	}
	return strings.Join(parts, ";\n")
}

var _ = Describe("workloads on a 3-node cluster", Ordered, Label("e2e", "workload"), func() {
	var (
		cluster *harness.Cluster
		targets []workload.Target
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: allSchemas()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(2*time.Minute))
		for _, n := range cluster.Nodes {
			targets = append(targets, workload.Target{Name: n.Name, DSN: n.DSN})
		}
	}, NodeTimeout(4*time.Minute))

	// runFor sets w up, passes a barrier, runs it 10 s and returns the
	// validated history.
	runFor := func(ctx context.Context, w workload.Workload, seed int64) ([]history.Op, workload.Stats) {
		var buf syncBuffer
		rec := history.NewRecorder(&buf)
		Expect(w.Setup(ctx, targets, rec)).To(Succeed())
		// 2 min: the previous spec's backlog drains first; on a loaded
		// 2-core machine that once took over a minute.
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		stats, err := w.Run(ctx, workload.RunConfig{Nodes: targets, Recorder: rec, Seed: seed, ClientsPerNode: 2, Duration: 10 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Close()).To(Succeed())
		ops, err := history.Read(strings.NewReader(buf.String()))
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("%s: %d ok, %d fail, %d info in %s (%.0f ops/s) reasons %v\n", w.Name(), stats.Ok, stats.Fail, stats.Info, stats.Elapsed.Round(time.Millisecond), stats.Rate(), stats.Reasons)
		return ops, stats
	}

	expectNoInfo := func(ops []history.Op, f string) int {
		oks := 0
		for _, p := range history.Pairs(ops) {
			Expect(p.Type).NotTo(Equal(history.Info), "op %d %s: %s", p.Invoke.Index, p.Invoke.F, p.Completion.Error)
			if p.Type == history.Ok && strings.HasPrefix(p.Invoke.F, f) {
				oks++
			}
		}
		return oks
	}

	It("ledger: every op ok or fail, every ok transaction whole on every node", func(ctx SpecContext) {
		ops, _ := runFor(ctx, &workload.Ledger{Rows: 3}, 1)
		oks := expectNoInfo(ops, workload.FLedgerTxn)
		Expect(oks).To(BeNumerically(">", 100))
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		want := map[string]bool{}
		for _, p := range history.Pairs(ops) {
			if p.Type == history.Ok {
				want[p.Invoke.TxnID] = true
			}
		}
		for _, n := range cluster.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			rows, err := conn.Query(ctx, "SELECT txn_id, count(*) FROM ledger GROUP BY txn_id")
			Expect(err).NotTo(HaveOccurred())
			got := map[string]int{}
			for rows.Next() {
				var id string
				var c int
				Expect(rows.Scan(&id, &c)).To(Succeed())
				got[id] = c
			}
			Expect(rows.Err()).NotTo(HaveOccurred())
			conn.Close(ctx)
			for id := range want {
				Expect(got[id]).To(Equal(3), "txn %s on %s", id, n.Name)
			}
		}
	}, SpecTimeout(3*time.Minute))

	It("bank: every op ok or fail, each owner's total unchanged", func(ctx SpecContext) {
		ops, _ := runFor(ctx, &workload.Bank{}, 2)
		Expect(expectNoInfo(ops, workload.FTransfer)).To(BeNumerically(">", 100))
		Expect(ops[0].F).To(Equal(workload.FBankInit))
		Expect(string(ops[0].Value)).To(ContainSubstring(`"owners":["n1","n2","n3"]`))
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		for _, n := range cluster.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			var bad int
			Expect(conn.QueryRow(ctx, "SELECT count(*) FROM (SELECT owner FROM bank_accounts GROUP BY owner HAVING sum(balance) <> 10 * 1000 OR count(*) <> 10) t").Scan(&bad)).To(Succeed())
			conn.Close(ctx)
			Expect(bad).To(BeZero(), "owners with a changed total on %s", n.Name)
		}
	}, SpecTimeout(3*time.Minute))

	It("hotkey: every op ok or fail", func(ctx SpecContext) {
		ops, _ := runFor(ctx, &workload.Hotkey{}, 3)
		Expect(expectNoInfo(ops, workload.FHotUpdate)).To(BeNumerically(">", 100))
	}, SpecTimeout(3*time.Minute))

	It("ycsb: every op ok or fail, recorded by our binding", func(ctx SpecContext) {
		ops, _ := runFor(ctx, &workload.YCSB{Mix: "a", RecordCount: 500}, 4)
		Expect(expectNoInfo(ops, "ycsb-")).To(BeNumerically(">", 500))
		fs := map[string]bool{}
		for _, op := range ops {
			fs[op.F] = true
		}
		Expect(fs).To(HaveKey("ycsb-insert"))
		Expect(fs).To(HaveKey("ycsb-read"))
		Expect(fs).To(HaveKey("ycsb-update"))
	}, SpecTimeout(3*time.Minute))

	It("large-txn: commits 20,000 rows in one transaction and signals COMMIT sent", func(ctx SpecContext) {
		var buf syncBuffer
		rec := history.NewRecorder(&buf)
		sent := false
		out, err := workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: targets[0], Rows: 20000, Process: "n1-large", TxnID: "large-e2e", OnCommitSent: func() { sent = true }}, rec)
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Type).To(Equal(history.Ok), out.Error)
		Expect(sent).To(BeTrue())
		Expect(rec.Close()).To(Succeed())
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		for _, n := range cluster.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			var c int
			Expect(conn.QueryRow(ctx, "SELECT count(*) FROM ledger WHERE txn_id = 'large-e2e'").Scan(&c)).To(Succeed())
			conn.Close(ctx)
			Expect(c).To(Equal(20000), "rows of large-e2e on %s", n.Name)
		}
	}, SpecTimeout(3*time.Minute))

	// After every spec that needs replication: on pglogical, deletes racing
	// with inserts and updates of the same keys can stop the apply workers
	// for minutes (seen: "unexpected HTSU_Result after locking: 4" and
	// duplicate key on conflict_kv_pkey, every subscription but one down),
	// and the next spec's barrier then times out. The kill spec below needs
	// no replication.
	It("conflict: several nodes write the same keys; every ok write carries its commit timestamp", func(ctx SpecContext) {
		ops, _ := runFor(ctx, &workload.Conflict{}, 5)
		nodesPerKey := map[int]map[string]bool{}
		kinds := map[string]int{}
		for _, op := range ops {
			if op.Type != history.Ok || op.F == workload.FConflictInit || !strings.HasPrefix(op.F, "conflict-") {
				continue
			}
			var v workload.ConflictValue
			Expect(json.Unmarshal(op.Value, &v)).To(Succeed())
			Expect(v.CommitTS).NotTo(BeNil(), "ok %s op %d has no commit timestamp: %s", op.F, op.Index, v.CommitTSError)
			Expect(*v.CommitTS).To(BeTemporally("<=", op.Wall), "committed after its ack was recorded")
			if nodesPerKey[v.Key] == nil {
				nodesPerKey[v.Key] = map[string]bool{}
			}
			nodesPerKey[v.Key][op.Node] = true
			kinds[op.F]++
		}
		Expect(kinds).To(HaveKey(workload.FConflictInsert))
		Expect(kinds).To(HaveKey(workload.FConflictUpdate))
		Expect(kinds).To(HaveKey(workload.FConflictDelete))
		for k, nodes := range nodesPerKey {
			Expect(nodes).To(HaveLen(3), "key %d written on every node", k)
		}
	}, SpecTimeout(3*time.Minute))

	// Last: it kills n3.
	It("survives a node killed mid-run: its clients record what was in flight and stop", func(ctx SpecContext) {
		var buf syncBuffer
		rec := history.NewRecorder(&buf)
		go func() {
			defer GinkgoRecover()
			time.Sleep(3 * time.Second)
			Expect(cluster.Node("n3").Container.Stop(context.Background(), ptr(time.Duration(0)))).To(Succeed())
		}()
		stats, err := (&workload.Ledger{Rows: 1}).Run(ctx, workload.RunConfig{Nodes: targets, Recorder: rec, Seed: 5, ClientsPerNode: 2, Duration: 8 * time.Second, OpTimeout: 5 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Close()).To(Succeed())
		ops, err := history.Read(strings.NewReader(buf.String()))
		Expect(err).NotTo(HaveOccurred())
		GinkgoWriter.Printf("kill run: %+v\n", stats)
		var n3Late, n1Late int
		for _, p := range history.Pairs(ops) {
			Expect(p.Completed).To(BeTrue(), "every op completed: %d", p.Invoke.Index)
			if p.Invoke.Time > 5*time.Second {
				switch p.Invoke.Node {
				case "n3":
					n3Late++
				case "n1":
					n1Late++
				}
			}
		}
		Expect(n3Late).To(BeZero(), "n3's clients stopped issuing")
		Expect(n1Late).To(BeNumerically(">", 10), "n1's clients kept going")
		Expect(stats.ClientsGaveUp).To(Equal(2))
		Expect(stats.Reasons).NotTo(HaveKey("unique_violation"), "fresh transaction ids")
		Expect(stats.PerNode["n1"].Fail).To(BeZero())
		Expect(stats.PerNode["n3"].Fail+stats.PerNode["n3"].Info).To(BeNumerically(">", 0), "the op in flight at the kill")
	}, SpecTimeout(2*time.Minute))
})

func ptr[T any](v T) *T { return &v }
