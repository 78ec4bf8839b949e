package workload_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// plantAll runs stmts on node in one session under the plant origin: no
// peer receives them.
func plantAll(ctx context.Context, n *harness.Node, stmts ...string) {
	conn, err := n.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "SELECT pg_replication_origin_create($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = $1)", plantOrigin)
	Expect(err).NotTo(HaveOccurred())
	_, err = conn.Exec(ctx, "SELECT pg_replication_origin_session_setup($1)", plantOrigin)
	Expect(err).NotTo(HaveOccurred())
	for _, s := range stmts {
		_, err = conn.Exec(ctx, s)
		Expect(err).NotTo(HaveOccurred(), "planted %q on %s", s, n.Name)
	}
}

// resultLines are every line a schema-features checker named.
func resultLines(r verify.CheckResult) []string {
	var out []string
	if d, ok := r.Details.(map[string]any); ok {
		for _, v := range d {
			out = append(out, v.([]string)...)
		}
	}
	return out
}

// The schema-features workload run once on every node, then each
// feature's checker judged before and after a planted defect it must
// name by key.
var _ = Describe("schema-features workload on a 3-node cluster", Ordered, Label("e2e", "workload", "schema"), func() {
	var (
		cluster *harness.Cluster
		vt      []verify.Target
		ops     []history.Op
	)

	BeforeAll(func(ctx SpecContext) {
		w := &workload.SchemaFeatures{}
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: w.Schema()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(2*time.Minute))
		var targets []workload.Target
		for _, n := range cluster.Nodes {
			targets = append(targets, workload.Target{Name: n.Name, DSN: n.DSN})
			vt = append(vt, verify.Target{Name: n.Name, DSN: n.DSN})
		}
		var buf syncBuffer
		rec := history.NewRecorder(&buf)
		Expect(w.Setup(ctx, targets, rec)).To(Succeed())
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		stats, err := w.Run(ctx, workload.RunConfig{Nodes: targets, Recorder: rec, Seed: 7, ClientsPerNode: 2, Duration: 6 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Close()).To(Succeed())
		GinkgoWriter.Printf("schema-features: %d ok, %d fail, %d info (%.0f ops/s) reasons %v\n", stats.Ok, stats.Fail, stats.Info, stats.Rate(), stats.Reasons)
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		ops, err = history.Read(strings.NewReader(buf.String()))
		Expect(err).NotTo(HaveOccurred())
		kinds := map[string]int{}
		for _, p := range history.Pairs(ops) {
			if p.Type == history.Ok {
				kinds[p.Invoke.F]++
			}
		}
		GinkgoWriter.Printf("acknowledged ops by kind: %v\n", kinds)
		for _, f := range []string{workload.FGenSet, workload.FGenAdd, workload.FPartMove, workload.FFKChild,
			workload.FTruncInsert, workload.FTruncate, workload.FTruncSide, workload.FSeqInsert} {
			Expect(kinds[f]).To(BeNumerically(">", 0), "acknowledged %s ops", f)
		}
	}, NodeTimeout(5*time.Minute))

	check := func(ctx context.Context, name string) verify.CheckResult {
		obs, err := verify.Observe(ctx, vt)
		Expect(err).NotTo(HaveOccurred())
		r := byCheckName(verify.CheckHistory(ops, obs, verify.HistoryOptions{}), name)
		GinkgoWriter.Printf("%s: %s: %s\n", name, r.Verdict, r.Summary)
		Expect(r.Verdict).To(BeElementOf(verify.Pass, verify.Fail), r.Summary)
		return r
	}
	// judged runs the checker, plants, and expects the planted line.
	judged := func(ctx context.Context, name string, plant func(), want string) {
		before := check(ctx, name)
		plant()
		after := check(ctx, name)
		Expect(after.Verdict).To(Equal(verify.Fail))
		Expect(resultLines(after)).To(ContainElement(ContainSubstring(want)), "before: %s", before.Summary)
		Expect(resultLines(before)).NotTo(ContainElement(ContainSubstring(want)))
	}
	firstOf := func(ctx context.Context, sql string) int64 {
		conn, err := cluster.Node("n1").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close(context.WithoutCancel(ctx))
		var k int64
		Expect(conn.QueryRow(ctx, sql).Scan(&k)).To(Succeed(), sql)
		return k
	}

	It("generated columns: a node computing g differently is named by key and node", func(ctx SpecContext) {
		k := firstOf(ctx, "SELECT min(k) FROM gen_kv")
		judged(ctx, verify.GeneratedCheckName, func() {
			plantAll(ctx, cluster.Node("n2"), "ALTER TABLE gen_kv ALTER COLUMN g SET EXPRESSION AS (a * 31 + length(b) + 1)")
		}, fmt.Sprintf("k=%d on n2: g=", k))
		plantAll(ctx, cluster.Node("n2"), "ALTER TABLE gen_kv ALTER COLUMN g SET EXPRESSION AS (a * 31 + length(b))")
	}, SpecTimeout(2*time.Minute))

	It("partitioned: a row missing on one node is named by key and partition", func(ctx SpecContext) {
		k := firstOf(ctx, "SELECT k FROM part_kv ORDER BY k, p LIMIT 1")
		p := firstOf(ctx, "SELECT p FROM part_kv ORDER BY k, p LIMIT 1")
		judged(ctx, verify.PartitionedCheckName, func() {
			plantAll(ctx, cluster.Node("n2"), fmt.Sprintf("DELETE FROM part_kv WHERE k = %d AND p = %d", k, p))
		}, fmt.Sprintf("k=%d p=%d: n1 (", k, p))
	}, SpecTimeout(2*time.Minute))

	It("foreign key: a child without its parent is named by child, parent and node", func(ctx SpecContext) {
		judged(ctx, verify.ForeignKeyCheckName, func() {
			plantAll(ctx, cluster.Node("n2"), "SET session_replication_role = replica",
				"INSERT INTO fk_child (id, parent_id, writer) VALUES (424242, 999999, 'plant')")
		}, "child 424242 on n2: parent 999999 missing")
	}, SpecTimeout(2*time.Minute))

	It("truncate: an acknowledged row of the table written meanwhile lost on one node is named", func(ctx SpecContext) {
		k := firstOf(ctx, "SELECT min(k) FROM trunc_side")
		judged(ctx, verify.TruncateCheckName, func() {
			plantAll(ctx, cluster.Node("n2"), fmt.Sprintf("DELETE FROM trunc_side WHERE k = %d", k))
		}, fmt.Sprintf("trunc_side k=%d on n2: missing", k))
	}, SpecTimeout(2*time.Minute))

	It("sequence keys: a key overwritten on one node is named with both inserts", func(ctx SpecContext) {
		k := firstOf(ctx, "SELECT min(k) FROM seq_kv")
		judged(ctx, verify.SequenceCheckName, func() {
			plantAll(ctx, cluster.Node("n2"), fmt.Sprintf("UPDATE seq_kv SET txn = 'planted' WHERE k = %d", k))
		}, fmt.Sprintf("k=%d on n2: holds planted, acknowledged to", k))
	}, SpecTimeout(2*time.Minute))
})

func byCheckName(results []verify.CheckResult, name string) verify.CheckResult {
	for _, r := range results {
		if r.Name == name {
			return r
		}
	}
	Fail("no history checker " + name)
	return verify.CheckResult{}
}
