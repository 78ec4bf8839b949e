package verify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
)

// mutationSchema is created twice: "mut" is mutated, "pristine" never is
// (the untouched copy that must show no difference).
const mutationTables = `
CREATE TABLE %[1]s.typed (id int PRIMARY KEY, i int, b bigint, n numeric, t text, v varchar(40), ok bool,
  ts timestamptz, d date, j jsonb, by bytea, u uuid);
CREATE TABLE %[1]s.comp (region text, seq bigint, note text, PRIMARY KEY (region, seq));
CREATE TABLE %[1]s.big (id int PRIMARY KEY, body text);
`

// mutationData is loaded on n1 and replicated. Texts include quotes,
// backslashes, newlines, tabs and non-ASCII; id%10 = 0 has t NULL and
// id%10 = 1 has t ”; big bodies are ~128 kB (toasted).
const mutationData = `
INSERT INTO %[1]s.typed SELECT g, g, g * 1000000007::bigint, round(g / 7.0, 2),
  CASE g %% 10 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'quote'' "dq" \\ back\nnew\ttab café ünï 漢字 ' || g ELSE 'text ' || g END,
  'v' || g, g %% 2 = 0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1.000001 second', date '2026-01-01' + g,
  jsonb_build_object('a', g, 'b', 'x' || g, 'n', jsonb_build_object('z', 1, 'y', 2)), decode(md5(g::text), 'hex'), md5(g::text)::uuid
FROM generate_series(1, 600) g;
INSERT INTO %[1]s.comp SELECT 'r' || (g %% 7), g, 'note ' || g FROM generate_series(1, 300) g;
INSERT INTO %[1]s.big SELECT g, (SELECT string_agg(md5(g::text || '-' || x), '') FROM generate_series(1, 4000) x) FROM generate_series(1, 12) g;
`

// A table without a primary key cannot be replicated by pglogical: it is
// created and loaded identically on each node.
const noPKTable = `CREATE TABLE %[1]s.nopk (x int, y text); INSERT INTO %[1]s.nopk SELECT g %% 5, 'y' || g FROM generate_series(1, 50) g`

// injected is one divergence and what the check must report for it.
type injected struct {
	kind     string
	table    string
	keyText  string
	node     string
	absentOn []string
	columns  []string
}

var _ = Describe("convergence on a 3-node cluster with injected divergences", Label("e2e", "verify"), Ordered, func() {
	var (
		cluster *harness.Cluster
		targets []verify.Target
		conns   = map[string]*pgx.Conn{}
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		schema := "CREATE SCHEMA mut; CREATE SCHEMA pristine;" + fmt.Sprintf(mutationTables, "mut") + fmt.Sprintf(mutationTables, "pristine")
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: schema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			for _, c := range conns {
				c.Close(ctx)
			}
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(2*time.Minute))
		for _, n := range cluster.Nodes {
			targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
			conns[n.Name], err = n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
		for _, s := range []string{"mut", "pristine"} {
			_, err = conns["n1"].Exec(ctx, fmt.Sprintf(mutationData, s), pgx.QueryExecModeSimpleProtocol)
			Expect(err).NotTo(HaveOccurred())
			for _, n := range cluster.Nodes {
				_, err = conns[n.Name].Exec(ctx, fmt.Sprintf(noPKTable, s), pgx.QueryExecModeSimpleProtocol)
				Expect(err).NotTo(HaveOccurred())
			}
		}
		Expect(cluster.Barrier(ctx, cluster.Nodes, time.Minute)).To(Succeed())
	}, NodeTimeout(6*time.Minute))

	It("finds no difference in identical replicated data", func(ctx SpecContext) {
		rep, err := verify.Convergence(ctx, targets, verify.ConvergenceOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Converged).To(BeTrue(), "%+v", rep.Tables)
		Expect(rep.Tables).To(HaveLen(8))
		for _, t := range rep.Tables {
			Expect(t.RowCounts).To(HaveLen(3))
		}
		Expect(verify.ConvergenceResult(rep, nil).Verdict).To(Equal(verify.Pass))
	}, SpecTimeout(2*time.Minute))

	It("finds every injected divergence with its exact key, and none in the untouched copy", func(ctx SpecContext) {
		for _, sub := range cluster.Nodes {
			for _, prov := range cluster.Nodes {
				if sub != prov {
					_, err := conns[sub.Name].Exec(ctx, "SELECT pglogical.alter_subscription_disable($1, true)", cluster.Flavor.SubscriptionName(sub.Name, prov.Name))
					Expect(err).NotTo(HaveOccurred())
				}
			}
		}
		_, err := conns["n2"].Exec(ctx, "CREATE TABLE mut.lonely (id int PRIMARY KEY); INSERT INTO mut.lonely VALUES (1)")
		Expect(err).NotTo(HaveOccurred())
		seed := GinkgoRandomSeed()
		By(fmt.Sprintf("injecting divergences with seed %d", seed))
		injections := injectDivergences(ctx, rand.New(rand.NewPCG(uint64(seed), 7)), conns, nodeNames(cluster))
		Expect(len(injections)).To(BeNumerically(">=", 50))

		for _, leaf := range []int64{0, 8} { // default ranges, then tiny ones (deep splits) without parallel workers
			rep, err := verify.Convergence(ctx, targets, verify.ConvergenceOptions{LeafRows: leaf, SharedHost: leaf > 0})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Converged).To(BeFalse())
			byTable := map[string]verify.TableResult{}
			for _, t := range rep.Tables {
				byTable[t.Table] = t
			}
			for _, name := range []string{"pristine.typed", "pristine.comp", "pristine.big", "pristine.nopk"} {
				Expect(byTable[name].Status).To(Equal(verify.TableConverged), "untouched copy %s", name)
				Expect(byTable[name].DifferingRows).To(BeZero())
			}
			lonely := byTable["mut.lonely"]
			Expect(lonely.Status).To(Equal(verify.TableMissing))
			Expect(lonely.MissingOn).To(Equal([]string{"n1", "n3"}))
			nopk := byTable["mut.nopk"]
			Expect(nopk.Status).To(Equal(verify.TableDiffers))
			Expect(nopk.NoPrimaryKey).To(BeTrue())
			Expect(nopk.Notes).To(ContainElement(ContainSubstring("row-level detail is unavailable")))

			found := map[string]verify.RowDiff{}
			for _, name := range []string{"mut.typed", "mut.comp", "mut.big"} {
				t := byTable[name]
				Expect(t.Truncated).To(BeFalse())
				Expect(t.DifferingRows).To(BeEquivalentTo(len(t.Rows)))
				for _, r := range t.Rows {
					found[name+" "+r.KeyText] = r
				}
			}
			var want []string
			for _, inj := range injections {
				if inj.table == "mut.nopk" {
					continue
				}
				id := inj.table + " " + inj.keyText
				want = append(want, id)
				r, ok := found[id]
				Expect(ok).To(BeTrue(), "injected %s on %s at %s was not found", inj.kind, inj.node, id)
				Expect(r.AbsentOn).To(Equal(inj.absentOn), "absent_on of %s (%s)", id, inj.kind)
				Expect(r.DifferingColumns).To(Equal(inj.columns), "differing columns of %s (%s)", id, inj.kind)
				for _, v := range r.Versions {
					if !v.Present {
						continue
					}
					Expect(v.CommitTS).NotTo(BeNil(), "commit ts of %s on %s", id, v.Node)
					switch {
					case v.Node == inj.node || v.Node == "n1":
						Expect(v.Origin).To(Equal("local"), "origin of %s on %s", id, v.Node)
					default: // loaded on n1, replicated here: shown as the origin node
						Expect(v.Origin).To(Equal("n1"), "origin of %s on %s", id, v.Node)
					}
				}
			}
			Expect(sortedKeys(found)).To(Equal(sorted(want)), "reported rows are exactly the injected ones (jsonb key order must not count)")
			// Every listed row is in exactly one class, and each class's
			// examples are rows of its table that differ that way.
			var classed int64
			for _, c := range rep.Classes {
				classed += c.Rows
				Expect(c.Line).To(HavePrefix(c.Table + ": "))
				for _, k := range c.Examples {
					r, ok := found[c.Table+" "+k]
					Expect(ok).To(BeTrue(), "example %s of class %q", k, c.Line)
					Expect(r.AbsentOn).To(Equal(c.AbsentOn), "example %s of class %q", k, c.Line)
					Expect(r.DifferingColumns).To(Equal(c.DifferingColumns), "example %s of class %q", k, c.Line)
				}
			}
			Expect(classed).To(BeEquivalentTo(len(found)))
			Expect(verify.ConvergenceResult(rep, nil).Verdict).To(Equal(verify.Fail))
		}

		rep, err := verify.Convergence(ctx, targets, verify.ConvergenceOptions{Tables: []string{"pristine.typed", "pristine.comp", "pristine.big", "pristine.nopk"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Tables).To(HaveLen(4))
		Expect(rep.Converged).To(BeTrue())
	}, SpecTimeout(3*time.Minute))

	It("is unknown, never pass, when one of the servers refuses connections", func(ctx SpecContext) {
		bad := []verify.Target{targets[0], {Name: "gone", DSN: "postgres://postgres@127.0.0.1:1/postgres?connect_timeout=5"}}
		r := verify.CheckConvergence(ctx, bad, verify.ConvergenceOptions{})
		Expect(r.Verdict).To(Equal(verify.Unknown))
		Expect(r.Summary).To(ContainSubstring("connect to gone"))
	}, SpecTimeout(time.Minute))

	It("observes the workload tables of every node, each in one snapshot", func(ctx SpecContext) {
		// Local tables (not replicated): each node gets its own content.
		for i, n := range cluster.Nodes {
			_, err := conns[n.Name].Exec(ctx, `CREATE TABLE ledger (txn_id text NOT NULL, seq int NOT NULL, origin text NOT NULL, payload text NOT NULL, PRIMARY KEY (txn_id, seq));
CREATE TABLE bank_accounts (id int PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL);
CREATE TABLE hotkey (k int PRIMARY KEY, v bigint NOT NULL, writer text NOT NULL);
INSERT INTO ledger SELECT 'a', g, 'n1', 'p' FROM generate_series(1, 3) g;
INSERT INTO ledger SELECT 'b', g, 'n1', 'p' FROM generate_series(1, `+fmt.Sprint(i+1)+`) g;
INSERT INTO bank_accounts SELECT g, 'n' || (g % 2 + 1), 100 + `+fmt.Sprint(i)+` FROM generate_series(1, 4) g;
INSERT INTO hotkey VALUES (1, `+fmt.Sprint(10*i)+`, '`+n.Name+`')`, pgx.QueryExecModeSimpleProtocol)
			Expect(err).NotTo(HaveOccurred())
		}
		obs, err := verify.Observe(ctx, targets)
		Expect(err).NotTo(HaveOccurred())
		Expect(obs.Nodes).To(Equal([]string{"n1", "n2", "n3"}))
		for i, n := range obs.Nodes {
			no := obs.PerNode[n]
			Expect(no.Ledger).To(Equal(map[string]int{"a": 3, "b": i + 1}))
			Expect(no.Bank.Rows).To(BeEquivalentTo(4))
			Expect(no.Bank.Totals).To(Equal(map[string]int64{"n1": int64(2 * (100 + i)), "n2": int64(2 * (100 + i))}))
			Expect(no.Bank.Accounts).To(Equal(map[string]int64{"n1": 2, "n2": 2}))
			Expect(no.Hotkey).To(Equal([]verify.HotkeyRow{{K: 1, V: int64(10 * i), Writer: n}}))
		}
		_, err = verify.Observe(ctx, []verify.Target{targets[0], {Name: "gone", DSN: "postgres://postgres@127.0.0.1:1/postgres?connect_timeout=5"}})
		Expect(err).To(MatchError(ContainSubstring("connect to gone")))
	}, SpecTimeout(time.Minute))
})

func nodeNames(c *harness.Cluster) []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Name)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func othersThan(nodes []string, node string) []string {
	return slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == node })
}

// injectDivergences makes at least 60 divergences, each on one random node
// and on a key no other divergence touches, plus jsonb rewrites with
// another key order (which must not count) and a duplicate row in the
// table without a primary key. Every kind is used at least once.
func injectDivergences(ctx context.Context, rng *rand.Rand, conns map[string]*pgx.Conn, nodes []string) []injected {
	type kind struct {
		name, table, sql string
		ids              func() int // picks the id; 0 for inserts
		columns          []string
		insert, deletes  bool
	}
	used := map[string]map[int]bool{"typed": {}, "comp": {}, "big": {}}
	pick := func(table string, rows int, filter func(int) bool) func() int {
		return func() int {
			for range 100000 {
				id := 1 + rng.IntN(rows)
				if !used[table][id] && (filter == nil || filter(id)) {
					used[table][id] = true
					return id
				}
			}
			Fail(fmt.Sprintf("no unused row left in %s", table))
			return 0
		}
	}
	anyID := pick("typed", 600, nil)
	kinds := []kind{
		{name: "missing row", table: "mut.typed", sql: "DELETE FROM mut.typed WHERE id = $1", ids: anyID, deletes: true},
		{name: "extra row", table: "mut.typed", sql: "INSERT INTO mut.typed (id, t) VALUES ($1, 'extra')", insert: true},
		{name: "int", table: "mut.typed", sql: "UPDATE mut.typed SET i = i + 1 WHERE id = $1", ids: anyID, columns: []string{"i"}},
		{name: "bigint", table: "mut.typed", sql: "UPDATE mut.typed SET b = b - 1 WHERE id = $1", ids: anyID, columns: []string{"b"}},
		{name: "numeric", table: "mut.typed", sql: "UPDATE mut.typed SET n = n + 0.01 WHERE id = $1", ids: anyID, columns: []string{"n"}},
		{name: "numeric scale", table: "mut.typed", sql: "UPDATE mut.typed SET n = n::numeric(20, 4) WHERE id = $1", ids: anyID, columns: []string{"n"}},
		{name: "text", table: "mut.typed", sql: "UPDATE mut.typed SET t = 'changed' WHERE id = $1", ids: anyID, columns: []string{"t"}},
		{name: "NULL to ''", table: "mut.typed", sql: "UPDATE mut.typed SET t = '' WHERE id = $1", ids: pick("typed", 600, func(id int) bool { return id%10 == 0 }), columns: []string{"t"}},
		{name: "'' to NULL", table: "mut.typed", sql: "UPDATE mut.typed SET t = NULL WHERE id = $1", ids: pick("typed", 600, func(id int) bool { return id%10 == 1 }), columns: []string{"t"}},
		{name: "unicode normalisation", table: "mut.typed", sql: "UPDATE mut.typed SET t = replace(t, 'é', E'e\\u0301') WHERE id = $1", ids: pick("typed", 600, func(id int) bool { return id%10 == 2 }), columns: []string{"t"}},
		{name: "newline to space", table: "mut.typed", sql: "UPDATE mut.typed SET t = replace(t, E'\\n', ' ') WHERE id = $1", ids: pick("typed", 600, func(id int) bool { return id%10 == 2 }), columns: []string{"t"}},
		{name: "varchar", table: "mut.typed", sql: "UPDATE mut.typed SET v = v || '~' WHERE id = $1", ids: anyID, columns: []string{"v"}},
		{name: "bool", table: "mut.typed", sql: "UPDATE mut.typed SET ok = NOT ok WHERE id = $1", ids: anyID, columns: []string{"ok"}},
		{name: "timestamptz +1us", table: "mut.typed", sql: "UPDATE mut.typed SET ts = ts + interval '1 microsecond' WHERE id = $1", ids: anyID, columns: []string{"ts"}},
		{name: "date", table: "mut.typed", sql: "UPDATE mut.typed SET d = d + 1 WHERE id = $1", ids: anyID, columns: []string{"d"}},
		{name: "jsonb value", table: "mut.typed", sql: `UPDATE mut.typed SET j = j || '{"b": "other"}' WHERE id = $1`, ids: anyID, columns: []string{"j"}},
		{name: "bytea", table: "mut.typed", sql: "UPDATE mut.typed SET by = by || '\\x00'::bytea WHERE id = $1", ids: anyID, columns: []string{"by"}},
		{name: "uuid", table: "mut.typed", sql: "UPDATE mut.typed SET u = gen_random_uuid() WHERE id = $1", ids: anyID, columns: []string{"u"}},
		{name: "composite-key missing row", table: "mut.comp", sql: "DELETE FROM mut.comp WHERE seq = $1", ids: pick("comp", 300, nil), deletes: true},
		{name: "composite-key extra row", table: "mut.comp", sql: "INSERT INTO mut.comp VALUES ('r' || ($1 % 7), $1, 'extra')", insert: true},
		{name: "composite-key value", table: "mut.comp", sql: "UPDATE mut.comp SET note = note || '.' WHERE seq = $1", ids: pick("comp", 300, nil), columns: []string{"note"}},
		{name: "toasted value", table: "mut.big", sql: "UPDATE mut.big SET body = overlay(body placing 'Z' from 60000 for 1) WHERE id = $1", ids: pick("big", 12, nil), columns: []string{"body"}},
	}
	var out []injected
	nextExtra := 10000
	apply := func(k kind) {
		node := nodes[rng.IntN(len(nodes))]
		var id int
		if k.insert {
			nextExtra++
			id = nextExtra
		} else {
			id = k.ids()
		}
		tag, err := conns[node].Exec(ctx, k.sql, id)
		Expect(err).NotTo(HaveOccurred(), "inject %s on %s", k.name, node)
		Expect(tag.RowsAffected()).To(BeEquivalentTo(1), "inject %s on %s, id %d", k.name, node, id)
		inj := injected{kind: k.name, table: k.table, node: node, keyText: fmt.Sprintf("(%d)", id), columns: k.columns}
		if k.table == "mut.comp" {
			inj.keyText = fmt.Sprintf("(r%d,%d)", id%7, id)
		}
		switch {
		case k.deletes:
			inj.absentOn = []string{node}
		case k.insert:
			inj.absentOn = othersThan(nodes, node)
		}
		out = append(out, inj)
	}
	for _, k := range kinds {
		apply(k)
	}
	for len(out) < 60 {
		apply(kinds[rng.IntN(len(kinds))])
	}
	// Semantically equal jsonb written with another key order: not a difference.
	for range 5 {
		id, node := anyID(), nodes[rng.IntN(len(nodes))]
		_, err := conns[node].Exec(ctx, `UPDATE mut.typed SET j = ('{"n": {"y": 2, "z": 1}, "b": "x' || id || '", "a": ' || id || '}')::jsonb WHERE id = $1`, id)
		Expect(err).NotTo(HaveOccurred())
	}
	node := nodes[rng.IntN(len(nodes))]
	_, err := conns[node].Exec(ctx, "INSERT INTO mut.nopk SELECT * FROM mut.nopk LIMIT 1")
	Expect(err).NotTo(HaveOccurred())
	out = append(out, injected{kind: "duplicate row without key", table: "mut.nopk", node: node})
	GinkgoWriter.Printf("injected %d divergences\n", len(out))
	return out
}
