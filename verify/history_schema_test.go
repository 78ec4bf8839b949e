package verify_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// schemaOp is one schema-features op of a test history: f by process
// with value v (and txn), its completion's outcome and result.
type schemaOp struct {
	process string
	f       string
	v       map[string]any
	txn     string
	outcome history.Type
	result  map[string]any
}

func schemaHistory(ops ...schemaOp) []history.Op {
	var out []history.Op
	for _, o := range ops {
		done := history.Op{Index: int64(len(out) + 1), Process: o.process, Node: o.process[:2], Type: o.outcome, F: o.f, TxnID: o.txn}
		if o.result != nil {
			done.Value = mustMarshal(o.result)
		}
		out = append(out,
			history.Op{Index: int64(len(out)), Process: o.process, Node: o.process[:2], Type: history.Invoke, F: o.f, TxnID: o.txn, Value: mustMarshal(o.v)},
			done)
	}
	return out
}

// schemaObs gives each listed node its schema-features tables.
func schemaObs(per map[string]*verify.SchemaObservation) *verify.Observation {
	obs := &verify.Observation{PerNode: map[string]*verify.NodeObservation{}}
	for _, n := range []string{"n1", "n2", "n3"} {
		if s, ok := per[n]; ok {
			obs.Nodes = append(obs.Nodes, n)
			obs.PerNode[n] = &verify.NodeObservation{Schema: s}
		}
	}
	return obs
}

func allNodes(s func() *verify.SchemaObservation) map[string]*verify.SchemaObservation {
	return map[string]*verify.SchemaObservation{"n1": s(), "n2": s(), "n3": s()}
}

func judge(name string, ops []history.Op, per map[string]*verify.SchemaObservation, want verify.Verdict, named ...string) {
	r := byName(verify.CheckHistory(ops, schemaObs(per), verify.HistoryOptions{}))[name]
	Expect(r.Verdict).To(Equal(want), r.Summary)
	for _, s := range named {
		Expect(r.Summary).To(ContainSubstring(s))
	}
}

func genRow(k int, a int64, b string) verify.GenRow {
	g, h := verify.GenExpected(a, b)
	return verify.GenRow{K: k, A: a, B: b, Writer: "n1-c0", G: g, H: h}
}

var _ = Describe("the schema-features checkers", func() {
	It("compute gen_kv's generated columns as the table does (g = a*31 + length(b), h = md5(b || ':' || a))", func() {
		g, h := verify.GenExpected(2, "xy")
		Expect(g).To(BeEquivalentTo(64))
		Expect(h).To(Equal("4e52057f0ab90c9d3a8c1e8f32696a6a")) // SELECT md5('xy:2')
	})

	It("are skipped, never passed, without their ops", func() {
		for _, name := range []string{verify.GeneratedCheckName, verify.PartitionedCheckName, verify.ForeignKeyCheckName, verify.TruncateCheckName, verify.SequenceCheckName} {
			judge(name, nil, allNodes(func() *verify.SchemaObservation { return &verify.SchemaObservation{} }), verify.Skipped, "not applicable")
		}
	})

	genOps := schemaHistory(schemaOp{"n1-c0", "gen-set", map[string]any{"key": 1}, "", history.Ok, nil})
	DescribeTable("generated columns",
		func(per map[string]*verify.SchemaObservation, want verify.Verdict, named ...string) {
			judge(verify.GeneratedCheckName, genOps, per, want, named...)
		},
		Entry("no-op control: every node computed g and h from the same a and b", allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{Gen: []verify.GenRow{genRow(1, 5, "b"), genRow(2, 7, "cc")}}
		}), verify.Pass, "2 gen_kv rows alike on n1, n2, n3"),
		Entry("a node whose g is not f(a, b) is named by key and node", map[string]*verify.SchemaObservation{
			"n1": {Gen: []verify.GenRow{genRow(1, 5, "b")}},
			"n2": {Gen: []verify.GenRow{{K: 1, A: 5, B: "b", Writer: "n1-c0", G: 1, H: genRow(1, 5, "b").H}}},
		}, verify.Fail, "k=1 on n2: g=1", "give g=156", "1 keys differ among the survivors: k=1: n1 (a=5"),
		Entry("a survivor without the table fails", map[string]*verify.SchemaObservation{"n1": {Gen: []verify.GenRow{}}, "n2": {}},
			verify.Fail, "survivor n2 has no gen_kv table"),
	)

	partOps := schemaHistory(schemaOp{"n1-c0", "part-move", map[string]any{"key": 1, "p": 150}, "", history.Ok, nil})
	DescribeTable("partitioned",
		func(per map[string]*verify.SchemaObservation, want verify.Verdict, named ...string) {
			judge(verify.PartitionedCheckName, partOps, per, want, named...)
		},
		Entry("no-op control: the same rows, each in its partition", allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{Part: []verify.PartRow{{K: 1, P: 150, Partition: "part_kv_1"}, {K: 2, P: 0, Partition: "part_kv_0"}}}
		}), verify.Pass, "2 part_kv rows alike"),
		Entry("a row in the wrong partition is named", allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{Part: []verify.PartRow{{K: 1, P: 150, Partition: "part_kv_0"}}}
		}), verify.Fail, `k=1 p=150 on n1: in part_kv_0, its key says "part_kv_1"`),
		Entry("a row moved on one node only is named by key", map[string]*verify.SchemaObservation{
			"n1": {Part: []verify.PartRow{{K: 1, P: 150, Partition: "part_kv_1"}}},
			"n2": {Part: []verify.PartRow{{K: 1, P: 50, Partition: "part_kv_0"}}},
		}, verify.Fail, "k=1 p=150: n1 (v=0 by  in part_kv_1), n2 none", "k=1 p=50: n1 none"),
	)

	fkOps := schemaHistory(schemaOp{"n1-c0", "fk-child", map[string]any{"parent": 1, "child": 10}, "t1", history.Ok, nil})
	DescribeTable("foreign key",
		func(per map[string]*verify.SchemaObservation, want verify.Verdict, named ...string) {
			judge(verify.ForeignKeyCheckName, fkOps, per, want, named...)
		},
		Entry("no-op control: every child has its parent everywhere", allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{FKParents: []int{1, 2}, FKChildren: []verify.FKChildRow{{ID: 10, Parent: 1}}}
		}), verify.Pass, "no child without its parent"),
		Entry("an orphan is named by child, parent and node even where the nodes agree", allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{FKParents: []int{2}, FKChildren: []verify.FKChildRow{{ID: 10, Parent: 1, Writer: "n2-c1"}}}
		}), verify.Fail, "3 orphaned children: child 10 on n1: parent 1 missing (child by n2-c1)"),
	)

	// n1 owns trunc_kv: k=1 before the truncate (gone), k=2 overlapping
	// it (either), k=3 after it (kept); k=9 on trunc_side from n2.
	truncOps := schemaHistory(
		schemaOp{"n1-c0", "trunc-insert", map[string]any{"k": 1}, "a", history.Ok, nil},
		schemaOp{"n1-c1", "trunc-truncate", map[string]any{}, "", history.Ok, nil},
		schemaOp{"n1-c0", "trunc-insert", map[string]any{"k": 3}, "c", history.Ok, nil},
		schemaOp{"n2-c0", "trunc-side", map[string]any{"k": 9}, "d", history.Ok, nil},
		schemaOp{"n2-c0", "trunc-side", map[string]any{"k": 8}, "e", history.Fail, nil},
	)
	truncOps = append(truncOps[:2], append([]history.Op{
		{Index: 2, Process: "n1-c2", Node: "n1", Type: history.Invoke, F: "trunc-insert", Value: mustMarshal(map[string]any{"k": 2})}},
		truncOps[2:]...)...)
	for i := range truncOps {
		truncOps[i].Index = int64(i)
	}
	truncOps = append(truncOps, history.Op{Index: int64(len(truncOps)), Process: "n1-c2", Node: "n1", Type: history.Ok, F: "trunc-insert"})
	side := []verify.KeyRow{{K: 9, Writer: "n2-c0"}}
	DescribeTable("truncate",
		func(per map[string]*verify.SchemaObservation, want verify.Verdict, named ...string) {
			judge(verify.TruncateCheckName, truncOps, per, want, named...)
		},
		Entry("no-op control: the row after the truncate kept, the one before gone, the overlapping one either way alike", allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{Trunc: []verify.KeyRow{{K: 2}, {K: 3}}, TruncSide: side}
		}), verify.Pass, "(1 truncates)"),
		Entry("a row acknowledged after the truncate lost on a node", map[string]*verify.SchemaObservation{
			"n1": {Trunc: []verify.KeyRow{{K: 3}}, TruncSide: side}, "n2": {Trunc: []verify.KeyRow{}, TruncSide: side},
		}, verify.Fail, "trunc_kv k=3 on n2: missing, acknowledged (op 5 by n1-c0) after every truncate"),
		Entry("a row the truncate removed survives on a node", map[string]*verify.SchemaObservation{
			"n1": {Trunc: []verify.KeyRow{{K: 3}}, TruncSide: side}, "n2": {Trunc: []verify.KeyRow{{K: 1}, {K: 3}}, TruncSide: side},
		}, verify.Fail, "trunc_kv k=1 on n2: kept, but a truncate acknowledged after its insert (op 0 by n1-c0) removed it"),
		Entry("the other table lost a row or holds a failed insert's", map[string]*verify.SchemaObservation{
			"n1": {Trunc: []verify.KeyRow{{K: 3}}, TruncSide: []verify.KeyRow{{K: 8}}}, "n2": {Trunc: []verify.KeyRow{{K: 3}}, TruncSide: side},
		}, verify.Fail, "trunc_side k=8 on n1: its insert (op 9 by n2-c0) failed", "trunc_side k=9 on n1: missing"),
	)

	seqOps := schemaHistory(
		schemaOp{"n1-c0", "seq-insert", map[string]any{}, "t1", history.Ok, map[string]any{"k": 1}},
		schemaOp{"n2-c0", "seq-insert", map[string]any{}, "t2", history.Ok, map[string]any{"k": 2}},
		schemaOp{"n3-c0", "seq-insert", map[string]any{}, "t3", history.Fail, nil},
	)
	DescribeTable("sequence keys",
		func(ops []history.Op, per map[string]*verify.SchemaObservation, want verify.Verdict, named ...string) {
			judge(verify.SequenceCheckName, ops, per, want, named...)
		},
		Entry("no-op control: every acknowledged key held by its insert", seqOps, allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{Seq: []verify.SeqRow{{K: 1, Txn: "t1"}, {K: 2, Txn: "t2"}}}
		}), verify.Pass, "2 seq_kv rows alike"),
		Entry("a key overwritten by another insert and one lost", seqOps, map[string]*verify.SchemaObservation{
			"n1": {Seq: []verify.SeqRow{{K: 1, Txn: "t1"}, {K: 2, Txn: "t2"}}}, "n2": {Seq: []verify.SeqRow{{K: 1, Txn: "t2"}}},
		}, verify.Fail, "k=1 on n2: holds t2, acknowledged to t1 (overwritten)", "k=2 on n2: missing, acknowledged to t2"),
		Entry("two inserts acknowledged the same key", append(seqOps, schemaHistory(
			schemaOp{"n3-c1", "seq-insert", map[string]any{}, "t4", history.Ok, map[string]any{"k": 1}})[0:2]...), allNodes(func() *verify.SchemaObservation {
			return &verify.SchemaObservation{Seq: []verify.SeqRow{{K: 1, Txn: "t1"}, {K: 2, Txn: "t2"}}}
		}), verify.Fail, "k=1: acknowledged to t1 and t4 (the sequences collide)"),
	)
})
