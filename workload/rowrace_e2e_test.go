package workload_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// plantOrigin marks the planted defects' writes: peers subscribe with
// forward_origins '{}', so a write under a replication origin stays on
// its node, which is the divergence the checker must find.
const plantOrigin = "spockchaos_plant"

// plantOn runs sql on node as a write no peer receives.
func plantOn(ctx context.Context, n *harness.Node, sql string, args ...any) {
	conn, err := n.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "SELECT pg_replication_origin_create($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = $1)", plantOrigin)
	Expect(err).NotTo(HaveOccurred())
	_, err = conn.Exec(ctx, "SELECT pg_replication_origin_session_setup($1)", plantOrigin)
	Expect(err).NotTo(HaveOccurred())
	tag, err := conn.Exec(ctx, sql, args...)
	Expect(err).NotTo(HaveOccurred())
	Expect(tag.RowsAffected()).To(BeEquivalentTo(1), "planted %q on %s", sql, n.Name)
}

func rowRaceSchemas() string {
	var parts []string
	for _, name := range []string{"toast", "unique-conflict", "pk-race", "delta-counter"} {
		w, err := workload.Lookup(name)
		Expect(err).NotTo(HaveOccurred())
		parts = append(parts, w.Schema())
	}
	return strings.Join(parts, ";\n")
}

// The row-race workloads, each run briefly, judged by its checker, then
// judged again after a planted defect the checker must name by key.
var _ = Describe("row-race workloads on a 3-node cluster", Ordered, Label("e2e", "workload", "rowrace"), func() {
	var (
		cluster *harness.Cluster
		targets []workload.Target
		vt      []verify.Target
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: rowRaceSchemas()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(2*time.Minute))
		for _, n := range cluster.Nodes {
			targets = append(targets, workload.Target{Name: n.Name, DSN: n.DSN})
			vt = append(vt, verify.Target{Name: n.Name, DSN: n.DSN})
		}
	}, NodeTimeout(4*time.Minute))

	// runOn sets w up, runs it for d with clients on nodes after a
	// barrier, waits for the backlog and returns the history.
	runOn := func(ctx context.Context, w workload.Workload, seed int64, d time.Duration, nodes []workload.Target) []history.Op {
		var buf syncBuffer
		rec := history.NewRecorder(&buf)
		Expect(w.Setup(ctx, targets, rec)).To(Succeed())
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		stats, err := w.Run(ctx, workload.RunConfig{Nodes: nodes, Recorder: rec, Seed: seed, ClientsPerNode: 2, Duration: d})
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Close()).To(Succeed())
		GinkgoWriter.Printf("%s: %d ok, %d fail, %d info (%.0f ops/s) reasons %v\n", w.Name(), stats.Ok, stats.Fail, stats.Info, stats.Rate(), stats.Reasons)
		Expect(stats.Ok).To(BeNumerically(">", 20), "%s did some work", w.Name())
		Expect(cluster.Barrier(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		ops, err := history.Read(strings.NewReader(buf.String()))
		Expect(err).NotTo(HaveOccurred())
		return ops
	}
	run := func(ctx context.Context, w workload.Workload, seed int64, d time.Duration) []history.Op {
		return runOn(ctx, w, seed, d, targets)
	}

	// historyCheck runs the history checker name on ops and the nodes'
	// final state.
	historyCheck := func(ctx context.Context, ops []history.Op, name string) verify.CheckResult {
		obs, err := verify.Observe(ctx, vt)
		Expect(err).NotTo(HaveOccurred())
		for _, r := range verify.CheckHistory(ops, obs, verify.HistoryOptions{}) {
			if r.Name == name {
				return r
			}
		}
		Fail("no history checker " + name)
		return verify.CheckResult{}
	}

	// divergedRows is the convergence check of table: its verdict and
	// the differing rows by key text.
	divergedRows := func(ctx context.Context, table string) (verify.Verdict, map[string]verify.RowDiff) {
		rep, err := verify.Convergence(ctx, vt, verify.ConvergenceOptions{Tables: []string{table}})
		Expect(err).NotTo(HaveOccurred())
		rows := map[string]verify.RowDiff{}
		for _, t := range rep.Tables {
			for _, r := range t.Rows {
				rows[r.KeyText] = r
			}
		}
		return verify.ConvergenceResult(rep, nil).Verdict, rows
	}

	It("toast: large values live out of line; rows differ at most in their large columns (the TOAST race); a large column changed on one node is named by key", func(ctx SpecContext) {
		ops := run(ctx, &workload.Toast{Keys: 16}, 11, 5*time.Second)
		kinds := map[string]int{}
		for _, p := range history.Pairs(ops) {
			if p.Type == history.Ok {
				kinds[p.Invoke.F]++
			}
		}
		Expect(kinds[workload.FToastTouch]).To(BeNumerically(">", 0))
		Expect(kinds[workload.FToastRewrite]).To(BeNumerically(">", 0))
		conn, err := cluster.Node("n1").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		var toastBytes, uncompressed int64
		Expect(conn.QueryRow(ctx, "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'toast_wide'").Scan(&toastBytes)).To(Succeed())
		Expect(conn.QueryRow(ctx, "SELECT count(*) FROM toast_wide WHERE pg_column_size(doc) >= 4096 AND pg_column_size(blob) >= 4096").Scan(&uncompressed)).To(Succeed())
		conn.Close(ctx)
		Expect(toastBytes).To(BeNumerically(">", 16*8*1024), "the large values live in the TOAST table")
		Expect(uncompressed).To(BeEquivalentTo(16), "every row's large values are stored uncompressed")

		_, raced := divergedRows(ctx, "public.toast_wide")
		for key, r := range raced {
			// An update that left doc and blob alone ships them as
			// unchanged TOAST: a subscriber keeps its own, whatever won.
			Expect(r.AbsentOn).To(BeEmpty(), "row %s", key)
			Expect([]string{"doc", "blob"}).To(ContainElements(r.DifferingColumns), "row %s differs beyond its large columns", key)
		}
		GinkgoWriter.Printf("toast race: %d of 16 rows differ in large columns only\n", len(raced))
		free := -1
		for k := range 16 {
			if _, ok := raced[fmt.Sprintf("(%d)", k)]; !ok {
				free = k
				break
			}
		}
		Expect(free).To(BeNumerically(">=", 0), "a row the race left equal")

		By(fmt.Sprintf("planting a different doc of the same length in row %d on n2", free))
		plantOn(ctx, cluster.Node("n2"), "UPDATE toast_wide SET doc = reverse(doc) WHERE k = $1", free)
		verdict, rows := divergedRows(ctx, "public.toast_wide")
		Expect(verdict).To(Equal(verify.Fail))
		Expect(rows).To(HaveLen(len(raced) + 1))
		planted := fmt.Sprintf("(%d)", free)
		Expect(rows).To(HaveKey(planted))
		Expect(rows[planted].DifferingColumns).To(Equal([]string{"doc"}))
	}, SpecTimeout(3*time.Minute))

	It("unique-conflict: the checker judges every unique value; one node holding another key for a value is named by value and keys", func(ctx SpecContext) {
		ops := run(ctx, &workload.UniqueConflict{}, 12, 5*time.Second)
		before := historyCheck(ctx, ops, verify.UniqueCheckName)
		GinkgoWriter.Printf("unique-conflict after the race: %s: %s\n", before.Verdict, before.Summary)
		Expect(before.Verdict).To(BeElementOf(verify.Pass, verify.Fail), before.Summary)
		differing := func(r verify.CheckResult) map[int]verify.UniqDisagreement {
			out := map[int]verify.UniqDisagreement{}
			if d, ok := r.Details.(map[string]any); ok {
				for _, x := range d["differing"].([]verify.UniqDisagreement) {
					out[x.U] = x
				}
			}
			return out
		}
		raced := differing(before)
		obs, err := verify.Observe(ctx, vt)
		Expect(err).NotTo(HaveOccurred())
		u, k := -1, int64(0)
		for _, row := range obs.PerNode["n1"].Uniq {
			if _, bad := raced[row.U]; !bad {
				u, k = row.U, row.K
				break
			}
		}
		Expect(u).To(BeNumerically(">=", 0), "a value the nodes agree on (%s)", before.Summary)

		By(fmt.Sprintf("planting key %d+1 for u=%d on n2", k, u))
		plantOn(ctx, cluster.Node("n2"), "UPDATE uniq_kv SET k = k + 1 WHERE u = $1", u)
		after := historyCheck(ctx, ops, verify.UniqueCheckName)
		Expect(after.Verdict).To(Equal(verify.Fail))
		planted := differing(after)
		Expect(planted).To(HaveLen(len(raced) + 1))
		Expect(planted).To(HaveKey(u))
		Expect(planted[u].Line).To(Equal(fmt.Sprintf("u=%d: n1 holds k=%d (by %s), n2 holds k=%d (by %s), n3 holds k=%d (by %s)",
			u, k, planted[u].Holders["n1"].Writer, k+1, planted[u].Holders["n1"].Writer, k, planted[u].Holders["n1"].Writer)))
		Expect(after.Details.(map[string]any)["unacknowledged"]).To(ContainElement(fmt.Sprintf("u=%d k=%d on n2: no insert of this key in the history", u, k+1)))
	}, SpecTimeout(3*time.Minute))

	// From one node only: on pglogical 2 the race from every node stops
	// apply workers for good (a remote move or insert onto a key another
	// node wrote: duplicate key on pk_kv_pkey, measured), and the barrier
	// after the run would never pass. The scenario pk-race-crash-restart
	// runs the race.
	It("pk-race: moves, updates, deletes and inserts replicate; a row moved on one node alone is named by both keys", func(ctx SpecContext) {
		ops := runOn(ctx, &workload.PKRace{}, 13, 3*time.Second, targets[:1])
		kinds := map[string]int{}
		for _, p := range history.Pairs(ops) {
			if p.Type == history.Ok {
				kinds[p.Invoke.F]++
			}
		}
		for _, f := range []string{workload.FPKMove, workload.FPKUpdate, workload.FPKDelete, workload.FPKInsert} {
			Expect(kinds[f]).To(BeNumerically(">", 0), f)
		}
		_, raced := divergedRows(ctx, "public.pk_kv")
		GinkgoWriter.Printf("pk race: %d keys differ: %v\n", len(raced), slices.Sorted(maps.Keys(raced)))
		// A key every node holds alike and a key no node holds.
		conn, err := cluster.Node("n2").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		held := map[int]bool{}
		rows, err := conn.Query(ctx, "SELECT k FROM pk_kv")
		Expect(err).NotTo(HaveOccurred())
		var k int
		_, err = pgx.ForEachRow(rows, []any{&k}, func() error { held[k] = true; return nil })
		Expect(err).NotTo(HaveOccurred())
		conn.Close(ctx)
		from, to := -1, -1
		for key := range 12 {
			_, bad := raced[fmt.Sprintf("(%d)", key)]
			switch {
			case bad:
			case held[key] && from < 0:
				from = key
			case !held[key] && to < 0:
				to = key
			}
		}
		Expect(from).To(BeNumerically(">=", 0), "a key held alike")
		Expect(to).To(BeNumerically(">=", 0), "a key held nowhere")

		By(fmt.Sprintf("moving key %d to %d on n2 alone", from, to))
		plantOn(ctx, cluster.Node("n2"), "UPDATE pk_kv SET k = $2 WHERE k = $1", from, to)
		verdict, rows2 := divergedRows(ctx, "public.pk_kv")
		Expect(verdict).To(Equal(verify.Fail))
		Expect(rows2).To(HaveLen(len(raced) + 2))
		Expect(rows2[fmt.Sprintf("(%d)", from)].AbsentOn).To(Equal([]string{"n2"}))
		Expect(rows2[fmt.Sprintf("(%d)", to)].AbsentOn).To(Equal([]string{"n1", "n3"}))
	}, SpecTimeout(3*time.Minute))

	// The checker's failing side is in its table spec (verify); here the
	// flavor decides: pglogical has no delta apply, so the workload runs,
	// records why in delta-init, and the checker is skipped, never passed.
	It("delta-counter: on a server without Spock's delta apply the init op says why and the checker is skipped with that reason", func(ctx SpecContext) {
		if cluster.Flavor.Name() != "pglogical" {
			Skip("the delta-apply side runs in the scenario delta-counter-crash-restart on a Spock image")
		}
		ops := run(ctx, &workload.DeltaCounter{}, 14, 3*time.Second)
		Expect(ops[0].F).To(Equal(workload.FDeltaInit))
		Expect(string(ops[1].Value)).To(ContainSubstring(`"delta_apply":false,"reason":"pglogical has no delta apply"`))
		r := historyCheck(ctx, ops, verify.DeltaCheckName)
		Expect(r.Verdict).To(Equal(verify.Skipped))
		Expect(r.Summary).To(Equal("not applicable: pglogical has no delta apply"))
	}, SpecTimeout(2*time.Minute))
})
