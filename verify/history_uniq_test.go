package verify_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"time"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// uniqOp is one unique-conflict op of a test history.
type uniqOp struct {
	process string
	f       string
	u       int
	k       int64
	outcome history.Type
}

func uniqHistory(ops ...uniqOp) []history.Op {
	var out []history.Op
	for _, o := range ops {
		v := map[string]any{"u": o.u}
		if o.k != 0 {
			v["k"] = o.k
		}
		out = append(out,
			history.Op{Index: int64(len(out)), Process: o.process, Node: o.process[:2], Type: history.Invoke, F: o.f, Value: mustMarshal(v)},
			history.Op{Index: int64(len(out) + 1), Process: o.process, Node: o.process[:2], Type: o.outcome, F: o.f, Value: mustMarshal(v)})
	}
	return out
}

func uniqObs(rows map[string][]verify.UniqRow) *verify.Observation {
	obs := &verify.Observation{PerNode: map[string]*verify.NodeObservation{}}
	for _, n := range []string{"n1", "n2", "n3"} {
		if r, ok := rows[n]; ok {
			obs.Nodes = append(obs.Nodes, n)
			obs.PerNode[n] = &verify.NodeObservation{Uniq: r}
		}
	}
	return obs
}

var _ = Describe("the unique-conflict checker", func() {
	// n1 and n2 both inserted u=3 (keys 11 and 22); n3's insert of u=3
	// failed locally; u=5 was inserted by n1 and deleted by n3.
	raced := uniqHistory(
		uniqOp{"n1-c0", "uniq-insert", 3, 11, history.Ok},
		uniqOp{"n2-c0", "uniq-insert", 3, 22, history.Ok},
		uniqOp{"n3-c0", "uniq-insert", 3, 33, history.Fail},
		uniqOp{"n1-c1", "uniq-insert", 5, 55, history.Ok},
		uniqOp{"n3-c1", "uniq-delete", 5, 0, history.Ok},
		uniqOp{"n2-c1", "uniq-insert", 7, 77, history.Info},
	)
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 123456000, time.UTC)
	at := func(r verify.UniqRow, ts time.Time) verify.UniqRow { r.CommitTS = &ts; return r }
	won := verify.UniqRow{K: 22, U: 3, Writer: "n2-c0"}
	lost := verify.UniqRow{K: 11, U: 3, Writer: "n1-c0"}
	info := verify.UniqRow{K: 77, U: 7, Writer: "n2-c1"}
	failed := verify.UniqRow{K: 33, U: 3, Writer: "n3-c0"}
	stranger := verify.UniqRow{K: 99, U: 3, Writer: "n1-c0"}

	DescribeTable("judges by unique value",
		func(ops []history.Op, rows map[string][]verify.UniqRow, want verify.Verdict, named []string) {
			r := byName(verify.CheckHistory(ops, uniqObs(rows), verify.HistoryOptions{}))[verify.UniqueCheckName]
			Expect(r.Verdict).To(Equal(want), r.Summary)
			for _, s := range named {
				Expect(r.Summary).To(ContainSubstring(s))
			}
		},
		Entry("every node holds the winner of the race (and an info insert that happened)",
			raced, map[string][]verify.UniqRow{"n1": {won, info}, "n2": {won, info}, "n3": {won, info}}, verify.Pass,
			[]string{"2 unique values held alike on n1, n2, n3 after 6 ops (1 values inserted on two or more nodes)"}),
		Entry("a node kept the loser of the race: the value and every node's key are named",
			raced, map[string][]verify.UniqRow{"n1": {lost}, "n2": {won}, "n3": {won}}, verify.Fail,
			[]string{"1 of 1 unique values differ", "u=3: n1 holds k=11 (by n1-c0), n2 holds k=22 (by n2-c0), n3 holds k=22 (by n2-c0)"}),
		Entry("a node lacks a row the others hold",
			raced, map[string][]verify.UniqRow{"n1": {won, info}, "n2": {won}, "n3": {won, info}}, verify.Fail,
			[]string{"u=7: n1 holds k=77 (by n2-c1), n2 holds none, n3 holds k=77 (by n2-c1)"}),
		Entry("every node holds a row whose insert failed",
			raced, map[string][]verify.UniqRow{"n1": {failed}, "n2": {failed}, "n3": {failed}}, verify.Fail,
			[]string{"u=3 k=33 on n1: its insert (op 4 by n3-c0) failed"}),
		Entry("every node holds a key no insert wrote",
			raced, map[string][]verify.UniqRow{"n1": {stranger}, "n2": {stranger}, "n3": {stranger}}, verify.Fail,
			[]string{"u=3 k=99 on n1: no insert of this key in the history"}),
		Entry("two nodes swapped keys committed in the same microsecond: the tie is named",
			raced, map[string][]verify.UniqRow{"n1": {at(won, t0)}, "n2": {at(lost, t0)}, "n3": {at(won, t0)}}, verify.Fail,
			[]string{"u=3: n1 holds k=22 (by n2-c0), n2 holds k=11 (by n1-c0), n3 holds k=22 (by n2-c0) (every row committed at 12:00:00.123456: a tie)"}),
	)

	DescribeTable("calls a disagreement a tie only when every survivor's row has the same commit time",
		func(rows map[string][]verify.UniqRow, tie bool) {
			r := byName(verify.CheckHistory(raced, uniqObs(rows), verify.HistoryOptions{}))[verify.UniqueCheckName]
			Expect(r.Verdict).To(Equal(verify.Fail), r.Summary)
			diffs := r.Details.(map[string]any)["differing"].([]verify.UniqDisagreement)
			Expect(diffs).To(HaveLen(1))
			_, isTie := verify.UniqTie(diffs[0].Holders)
			Expect(isTie).To(Equal(tie), diffs[0].Line)
			Expect(diffs[0].Line).To(map[bool]OmegaMatcher{true: ContainSubstring("a tie"), false: Not(ContainSubstring("tie"))}[tie])
		},
		Entry("all equal", map[string][]verify.UniqRow{"n1": {at(won, t0)}, "n2": {at(lost, t0)}, "n3": {at(won, t0)}}, true),
		Entry("one a microsecond later", map[string][]verify.UniqRow{"n1": {at(won, t0)}, "n2": {at(lost, t0.Add(time.Microsecond))}, "n3": {at(won, t0)}}, false),
		Entry("one commit time unknown", map[string][]verify.UniqRow{"n1": {at(won, t0)}, "n2": {lost}, "n3": {at(won, t0)}}, false),
		Entry("a node holds none", map[string][]verify.UniqRow{"n1": {at(won, t0)}, "n2": {at(lost, t0)}, "n3": {}}, false),
	)

	It("fails when a survivor has no uniq_kv table, and is skipped without its ops", func() {
		r := byName(verify.CheckHistory(raced, uniqObs(map[string][]verify.UniqRow{"n1": {won}, "n2": nil}), verify.HistoryOptions{}))[verify.UniqueCheckName]
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(Equal("survivor n2 has no uniq_kv table"))
		r = byName(verify.CheckHistory(nil, uniqObs(map[string][]verify.UniqRow{"n1": {won}, "n2": {won}}), verify.HistoryOptions{}))[verify.UniqueCheckName]
		Expect(r.Verdict).To(Equal(verify.Skipped))
	})
})
