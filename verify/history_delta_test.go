package verify_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// deltaHistory is a delta-counter history: the init op (delta apply on
// or off with reason), then adds (process, key, delta, outcome).
func deltaHistory(apply bool, reason string, adds ...deltaOp) []history.Op {
	init := map[string]any{"keys": 2, "delta_apply": apply, "reason": reason}
	out := []history.Op{
		{Index: 0, Process: "setup", Node: "n1", Type: history.Invoke, F: "delta-init", Value: mustMarshal(init)},
		{Index: 1, Process: "setup", Node: "n1", Type: history.Ok, F: "delta-init", Value: mustMarshal(init)},
	}
	for _, a := range adds {
		v := mustMarshal(map[string]any{"key": a.key, "delta": a.delta})
		out = append(out,
			history.Op{Index: int64(len(out)), Process: a.process, Node: a.process[:2], Type: history.Invoke, F: "delta-add", Value: v},
			history.Op{Index: int64(len(out) + 1), Process: a.process, Node: a.process[:2], Type: a.outcome, F: "delta-add", Value: v})
	}
	return out
}

type deltaOp struct {
	process string
	key     int
	delta   int64
	outcome history.Type
}

func deltaObs(counters map[string][2]int64) *verify.Observation {
	obs := &verify.Observation{PerNode: map[string]*verify.NodeObservation{}}
	for _, n := range []string{"n1", "n2", "n3"} {
		if c, ok := counters[n]; ok {
			obs.Nodes = append(obs.Nodes, n)
			obs.PerNode[n] = &verify.NodeObservation{Delta: []verify.DeltaRow{{K: 0, N: c[0]}, {K: 1, N: c[1]}}}
		}
	}
	return obs
}

var _ = Describe("the delta-counter checker", func() {
	// key 0: +5 (n1) +7 (n2) acknowledged, +3 (n3) failed; key 1: +11
	// acknowledged (n3), +2 unknown (n1).
	adds := []deltaOp{
		{"n1-c0", 0, 5, history.Ok}, {"n2-c0", 0, 7, history.Ok}, {"n3-c0", 0, 3, history.Fail},
		{"n3-c1", 1, 11, history.Ok}, {"n1-c1", 1, 2, history.Info},
	}
	on := deltaHistory(true, "", adds...)

	DescribeTable("judges every counter on every survivor",
		func(ops []history.Op, counters map[string][2]int64, opts verify.HistoryOptions, want verify.Verdict, named []string) {
			r := byName(verify.CheckHistory(ops, deltaObs(counters), opts))[verify.DeltaCheckName]
			Expect(r.Verdict).To(Equal(want), r.Summary)
			for _, s := range named {
				Expect(r.Summary).To(ContainSubstring(s))
			}
		},
		Entry("every node holds the sum (the unknown increment applied or not)",
			on, map[string][2]int64{"n1": {12, 13}, "n2": {12, 11}, "n3": {12, 13}}, verify.HistoryOptions{}, verify.Pass,
			[]string{"2 counters on n1, n2, n3 hold the sum of their acknowledged increments after 5 ops"}),
		Entry("a node lost an increment (last-update-wins kept the other): the key, node and lost op are named",
			on, map[string][2]int64{"n1": {12, 11}, "n2": {5, 11}, "n3": {12, 11}}, verify.HistoryOptions{}, verify.Fail,
			[]string{"key 0 on n2: 5, acknowledged increments sum to 12: lost 7 (an increment of 7: op 4 by n2-c0 on n2)"}),
		Entry("a node applied the failed increment",
			on, map[string][2]int64{"n1": {12, 11}, "n2": {12, 11}, "n3": {15, 11}}, verify.HistoryOptions{}, verify.Fail,
			[]string{"key 0 on n3: 15, more than every acknowledged and unknown increment (12 + 0): 3 too many"}),
		Entry("an increment acknowledged by a node that died may be lost with it",
			on, map[string][2]int64{"n1": {5, 11}, "n3": {5, 11}}, verify.HistoryOptions{Survivors: []string{"n1", "n3"}, Failed: []string{"n2"}}, verify.Pass,
			[]string{"2 counters on n1, n3"}),
	)

	It("is skipped with the workload's reason without delta apply, unknown without its init op, and fails on a missing table", func() {
		r := byName(verify.CheckHistory(deltaHistory(false, "pglogical has no delta apply", adds...), deltaObs(map[string][2]int64{"n1": {7, 11}, "n2": {7, 11}}), verify.HistoryOptions{}))[verify.DeltaCheckName]
		Expect(r.Verdict).To(Equal(verify.Skipped))
		Expect(r.Summary).To(Equal("not applicable: pglogical has no delta apply"))

		r = byName(verify.CheckHistory(on[2:], deltaObs(map[string][2]int64{"n1": {12, 11}, "n2": {12, 11}}), verify.HistoryOptions{}))[verify.DeltaCheckName]
		Expect(r.Verdict).To(Equal(verify.Unknown))

		obs := deltaObs(map[string][2]int64{"n1": {12, 11}, "n2": {12, 11}})
		obs.PerNode["n2"].Delta = obs.PerNode["n2"].Delta[:1]
		r = byName(verify.CheckHistory(on, obs, verify.HistoryOptions{}))[verify.DeltaCheckName]
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(ContainSubstring("key 1 on n2: no row (acknowledged increments sum to 0)"))
		obs.PerNode["n2"].Delta = nil
		r = byName(verify.CheckHistory(on, obs, verify.HistoryOptions{}))[verify.DeltaCheckName]
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(Equal("survivor n2 has no delta_counter table"))
	})
})
