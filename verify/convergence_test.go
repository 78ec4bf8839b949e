package verify_test

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("range comparison", func() {
	It("flags a bucket that differs in hash, in count, or is absent on a node", func() {
		same := verify.NewBucketStat(3, 1)
		stats := []map[int64]verify.BucketStat{
			{0: same, 1: same, 2: same, 3: same},
			{0: same, 1: verify.NewBucketStat(3, 9), 2: verify.NewBucketStat(4, 1)},
			{0: same, 1: same, 2: same, 3: same, 4: verify.NewBucketStat(1, 0)},
		}
		Expect(verify.DifferingBuckets(stats)).To(Equal([]verify.Bucket{
			verify.NewBucket(1, 3), verify.NewBucket(2, 4), verify.NewBucket(3, 3), verify.NewBucket(4, 1),
		}))
	})

	It("finds nothing when every node has the same buckets", func() {
		s := map[int64]verify.BucketStat{0: verify.NewBucketStat(1, 5), 7: verify.NewBucketStat(2, 6)}
		Expect(verify.DifferingBuckets([]map[int64]verify.BucketStat{s, s, s, s})).To(BeEmpty())
	})

	It("compares rows by their full digest and a missing version as a difference", func() {
		a := verify.NewFetchedRow("(1)", "x", nil, nil)
		b := verify.NewFetchedRow("(1)", "x", nil, nil)
		c := verify.NewFetchedRow("(1)", "y", nil, nil)
		Expect(verify.RowsAgree([]*verify.FetchedRow{a, b})).To(BeTrue())
		Expect(verify.RowsAgree([]*verify.FetchedRow{a, c})).To(BeFalse())
		Expect(verify.RowsAgree([]*verify.FetchedRow{a, nil})).To(BeFalse())
		Expect(verify.RowsAgree([]*verify.FetchedRow{nil, a})).To(BeFalse())
	})

	It("names the differing columns, telling NULL from the empty string", func() {
		empty, text := "", "x"
		def := verify.NewTableDef("public", "t", []string{"id"}, verify.NewColumn("id", "integer"), verify.NewColumn("t", "text"), verify.NewColumn("u", "text"))
		one := "1"
		d := verify.RowDiffOf(def, []string{"n1", "n2", "n3"}, []*verify.FetchedRow{
			verify.NewFetchedRow("(1)", "a", []*string{&one}, []*string{&one, nil, &text}),
			verify.NewFetchedRow("(1)", "b", []*string{&one}, []*string{&one, &empty, &text}),
			nil,
		})
		Expect(d.KeyText).To(Equal("(1)"))
		Expect(d.Key).To(HaveKeyWithValue("id", &one))
		Expect(d.KeyColumns).To(Equal([]string{"id"}))
		Expect(d.AbsentOn).To(Equal([]string{"n3"}))
		Expect(d.DifferingColumns).To(Equal([]string{"t"}))
		Expect(d.Versions).To(HaveLen(3))
		Expect(d.Versions[0].Values["t"]).To(BeNil())
		Expect(*d.Versions[1].Values["t"]).To(Equal(""))
		Expect(d.Versions[2].Present).To(BeFalse())
	})
})

var _ = Describe("table selection", func() {
	defs := func(names ...string) map[string]verify.TableDef {
		m := map[string]verify.TableDef{}
		for _, n := range names {
			m[n] = verify.TableDef{}
		}
		return m
	}

	It("takes every table on any node but the harness's own schema by default", func() {
		got, err := verify.SelectTables([]map[string]verify.TableDef{defs("public.a", "spockchaos.barrier"), defs("public.a", "s.b")}, nil, false)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]string{"public.a", "s.b"}))
	})

	It("includes the harness's schema when asked", func() {
		got, err := verify.SelectTables([]map[string]verify.TableDef{defs("public.a", "spockchaos.barrier"), defs("public.a")}, nil, true)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]string{"public.a", "spockchaos.barrier"}))
	})

	It("resolves named tables with or without a schema and refuses an unknown one", func() {
		nodes := []map[string]verify.TableDef{defs("public.a", "x.a", "public.b"), defs("public.a")}
		got, err := verify.SelectTables(nodes, []string{"a"}, false)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]string{"public.a", "x.a"}))
		got, err = verify.SelectTables(nodes, []string{"public.b"}, false)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([]string{"public.b"}))
		_, err = verify.SelectTables(nodes, []string{"nosuch"}, false)
		Expect(err).To(MatchError(ContainSubstring("nosuch is on none of the nodes")))
	})

	It("plans a table missing on a node, and one whose columns differ, on the common columns", func() {
		id, a := verify.NewColumn("id", "integer"), verify.NewColumn("a", "text")
		ref := verify.NewTableDef("public", "t", []string{"id"}, id, a, verify.NewColumn("b", "text"))
		other := verify.NewTableDef("public", "t", []string{"id"}, id, a)
		nodes := []map[string]verify.TableDef{{"public.t": ref}, {}, {"public.t": other}}
		p := verify.PlanTable("public.t", nodes, []string{"n1", "n2", "n3"})
		present, missingOn, cols, notes := verify.PlanOf(p)
		Expect(missingOn).To(Equal([]string{"n2"}))
		Expect(present).To(Equal([]int{0, 2}))
		Expect(cols).To(Equal([]verify.Column{id, a}))
		Expect(notes).To(ConsistOf(ContainSubstring("columns on n1 are (id integer, a text, b text), on n3 (id integer, a text)")))
		Expect(verify.PKComparable(p)).To(BeTrue())
	})

	It("falls back to a whole-table hash when the primary keys differ", func() {
		id, a := verify.NewColumn("id", "integer"), verify.NewColumn("a", "text")
		ref := verify.NewTableDef("public", "t", []string{"id"}, id, a)
		other := verify.NewTableDef("public", "t", []string{"a"}, id, a)
		p := verify.PlanTable("public.t", []map[string]verify.TableDef{{"public.t": ref}, {"public.t": other}}, []string{"n1", "n2"})
		Expect(verify.PKComparable(p)).To(BeFalse())
	})
})

var _ = Describe("the convergence check result", func() {
	It("is unknown when the comparison errored, never pass", func() {
		r := verify.ConvergenceResult(nil, errors.New("connect to n2: refused"))
		Expect(r.Verdict).To(Equal(verify.Unknown))
		Expect(r.Summary).To(ContainSubstring("refused"))
		Expect(verify.ConvergenceResult(nil, nil).Verdict).To(Equal(verify.Unknown))
	})

	It("passes only when every table converged", func() {
		rep := &verify.ConvergenceReport{Nodes: []string{"n1", "n2"}, Converged: true, Tables: []verify.TableResult{{Table: "public.a", Status: verify.TableConverged}}}
		Expect(verify.ConvergenceResult(rep, nil).Verdict).To(Equal(verify.Pass))
		rep = &verify.ConvergenceReport{Nodes: []string{"n1", "n2"}, Tables: []verify.TableResult{
			{Table: "public.a", Status: verify.TableConverged},
			{Table: "public.b", Status: verify.TableDiffers, DifferingRows: 3},
			{Table: "public.c", Status: verify.TableMissing, MissingOn: []string{"n2"}},
		}}
		r := verify.ConvergenceResult(rep, nil)
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(And(ContainSubstring("2 of 3 tables differ"), ContainSubstring("public.b: 3 rows differ"), ContainSubstring("public.c missing on n2")))
		Expect(r.Details).To(BeIdenticalTo(rep))
	})

	It("is unknown when a server refuses connections", func(ctx SpecContext) {
		targets := []verify.Target{{Name: "n1", DSN: "postgres://postgres@127.0.0.1:1/postgres?connect_timeout=5"}, {Name: "n2", DSN: "postgres://postgres@127.0.0.1:2/postgres?connect_timeout=5"}}
		r := verify.CheckConvergence(ctx, targets, verify.ConvergenceOptions{})
		Expect(r.Verdict).To(Equal(verify.Unknown))
		Expect(r.Summary).To(ContainSubstring("connect to n"))
	}, SpecTimeout(30*time.Second))

	It("refuses fewer than two nodes and duplicate names", func(ctx SpecContext) {
		_, err := verify.Convergence(ctx, []verify.Target{{Name: "n1", DSN: "postgres://x"}}, verify.ConvergenceOptions{})
		Expect(err).To(MatchError(ContainSubstring("at least 2 nodes")))
		_, err = verify.Convergence(ctx, []verify.Target{{Name: "n1"}, {Name: "n1"}}, verify.ConvergenceOptions{})
		Expect(err).To(MatchError(ContainSubstring("two targets are called n1")))
	})
})
