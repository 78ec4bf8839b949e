package verify_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// conflictHistory builds conflict-workload histories with chosen wall
// and commit times (ms after t0), as the workload records them.
type conflictHistory struct {
	ops []history.Op
	t0  time.Time
}

func newConflictHistory(keys int) *conflictHistory {
	h := &conflictHistory{t0: time.Date(2026, 12, 1, 19, 32, 56, 0, time.UTC)}
	h.add(history.Op{Process: "setup", Node: "n1", Type: history.Invoke, F: "conflict-init", Value: mustMarshal(map[string]int{"keys": keys})}, 0)
	h.add(history.Op{Process: "setup", Node: "n1", Type: history.Ok, F: "conflict-init", Value: mustMarshal(map[string]int{"keys": keys})}, 1)
	return h
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return b
}

func (h *conflictHistory) at(ms int) time.Time { return h.t0.Add(time.Duration(ms) * time.Millisecond) }

func (h *conflictHistory) add(op history.Op, ms int) {
	op.Index = int64(len(h.ops))
	op.Wall = h.at(ms)
	h.ops = append(h.ops, op)
}

// write records f on key by process (node = its prefix) with value v
// (0: a delete), started at start, committed at commit, acknowledged at
// end (ms); outcome Ok unless given.
func (h *conflictHistory) write(process, f string, key int, v int64, start, commit, end int, outcome ...history.Type) {
	node := process[:2]
	val := map[string]any{"key": key}
	if v != 0 {
		val["value"] = v
	}
	h.add(history.Op{Process: process, Node: node, Type: history.Invoke, F: f, Value: mustMarshal(val)}, start)
	t := history.Ok
	if len(outcome) > 0 {
		t = outcome[0]
	}
	if t == history.Ok {
		val["commit_ts"] = h.at(commit)
	}
	h.add(history.Op{Process: process, Node: node, Type: t, F: f, Value: mustMarshal(val)}, end)
}

// conflictObs is an observation where each survivor holds rows (k -> v,
// writer, commit ms; writer "" = absent).
type row struct {
	v      int64
	writer string
	commit int
}

func (h *conflictHistory) obs(per map[string]map[int]row, tiebreakers map[string]int64) *verify.Observation {
	o := &verify.Observation{PerNode: map[string]*verify.NodeObservation{}}
	for _, n := range []string{"n1", "n2", "n3"} {
		rows, ok := per[n]
		if !ok {
			continue
		}
		no := &verify.NodeObservation{Conflict: []verify.ConflictRow{}, Tiebreakers: tiebreakers}
		for k := range 10 {
			if r, ok := rows[k]; ok {
				ts := h.at(r.commit)
				no.Conflict = append(no.Conflict, verify.ConflictRow{K: k, V: r.v, Writer: r.writer, CommitTS: &ts})
			}
		}
		o.Nodes = append(o.Nodes, n)
		o.PerNode[n] = no
	}
	return o
}

func lww(ops []history.Op, obs *verify.Observation, opts verify.HistoryOptions) verify.CheckResult {
	return byName(verify.CheckHistory(ops, obs, opts))[verify.LWWCheckName]
}

func detailsJSON(r verify.CheckResult) string {
	b, err := json.Marshal(r.Details)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

var all3 = verify.HistoryOptions{Survivors: []string{"n1", "n2", "n3"}}

var _ = Describe("last-update-wins", func() {
	It("is skipped, not passed, without conflict ops", func() {
		r := lww(nil, (&conflictHistory{}).obs(map[string]map[int]row{"n1": {}, "n2": {}}, nil), verify.HistoryOptions{})
		Expect(r.Verdict).To(Equal(verify.Skipped))
	})

	It("passes when every survivor holds the acknowledged write with the latest commit timestamp, or no row after the last delete", func() {
		h := newConflictHistory(3)
		h.write("n1-c0", "conflict-update", 0, 11, 10, 12, 13)
		h.write("n2-c0", "conflict-update", 0, 22, 10, 14, 15) // later: wins key 0
		h.write("n3-c0", "conflict-delete", 1, 0, 10, 11, 12)
		h.write("n1-c0", "conflict-insert", 1, 33, 20, 21, 22) // recreates key 1
		h.write("n2-c0", "conflict-delete", 2, 0, 30, 31, 32)
		h.write("n1-c1", "conflict-update", 2, 44, 30, 33, 34) // concurrent with the delete: lost to it
		final := map[int]row{0: {22, "n2-c0", 14}, 1: {33, "n1-c0", 21}}
		r := lww(h.ops, h.obs(map[string]map[int]row{"n1": final, "n2": final, "n3": final}, nil), all3)
		Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		Expect(r.Summary).To(ContainSubstring("3 keys (3 written on several nodes), 6 acknowledged writes on n1, n2, n3: 0 violations"))
		Expect(r.Summary).To(ContainSubstring("1 updates lost to a concurrent delete"))
	})

	It("fails when a survivor holds an older write, naming the key, the competing writes, their nodes and timestamps", func() {
		h := newConflictHistory(1)
		h.write("n1-c0", "conflict-update", 0, 11, 10, 12, 13)
		h.write("n2-c0", "conflict-update", 0, 22, 10, 14, 15)
		good, stale := map[int]row{0: {22, "n2-c0", 14}}, map[int]row{0: {11, "n1-c0", 12}}
		r := lww(h.ops, h.obs(map[string]map[int]row{"n1": good, "n2": good, "n3": stale}, nil), all3)
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(ContainSubstring("1 violations"))
		Expect(r.Summary).To(ContainSubstring("key 0 on n3: holds update v=11 by n1-c0 on n1 (committed 19:32:56.012000), but update v=22 by n2-c0 on n2 (committed 19:32:56.014000) is later and acknowledged"))
		d := detailsJSON(r)
		Expect(d).To(ContainSubstring(`"key":0,"node":"n3"`))
		Expect(d).To(ContainSubstring(`"should_have_won":[{"f":"conflict-update","node":"n2","process":"n2-c0","value":22,"commit_ts":"2026-12-01T19:32:56.014Z"`))
	})

	It("fails when a row is absent although an acknowledged insert followed the last delete", func() {
		h := newConflictHistory(1)
		h.write("n1-c0", "conflict-delete", 0, 0, 10, 11, 12)
		h.write("n2-c0", "conflict-insert", 0, 5, 20, 21, 22)
		present := map[int]row{0: {5, "n2-c0", 21}}
		r := lww(h.ops, h.obs(map[string]map[int]row{"n1": present, "n2": {}, "n3": present}, nil), all3)
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(ContainSubstring("key 0 on n2: absent, but insert v=5 by n2-c0 on n2 (committed 19:32:56.021000) came after the last delete (delete by n1-c0 on n1 (committed 19:32:56.011000))"))
	})

	It("fails when a survivor holds a value no recorded write wrote", func() {
		h := newConflictHistory(1)
		h.write("n1-c0", "conflict-update", 0, 11, 10, 12, 13)
		r := lww(h.ops, h.obs(map[string]map[int]row{"n1": {0: {99, "n9-c0", 12}}, "n2": {0: {11, "n1-c0", 12}}}, nil), verify.HistoryOptions{Survivors: []string{"n1", "n2"}})
		Expect(r.Verdict).To(Equal(verify.Fail))
		Expect(r.Summary).To(ContainSubstring("key 0 on n1: holds v=99 by n9-c0, which no recorded write wrote"))
	})

	Describe("a commit-timestamp tie", func() {
		tie := func() *conflictHistory {
			h := newConflictHistory(1)
			h.write("n1-c0", "conflict-update", 0, 11, 10, 12, 13)
			h.write("n3-c0", "conflict-update", 0, 33, 10, 12, 13)
			return h
		}
		It("accepts either write on pglogical, which has no rule for it, and counts the tie", func() {
			h := tie()
			for _, final := range []map[int]row{{0: {11, "n1-c0", 12}}, {0: {33, "n3-c0", 12}}} {
				r := lww(h.ops, h.obs(map[string]map[int]row{"n1": final, "n2": final, "n3": final}, nil), all3)
				Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
				Expect(r.Summary).To(ContainSubstring("1 ties"))
			}
		})
		It("takes the lower Spock tiebreaker as the winner, and fails the other", func() {
			h := tie()
			spock := map[string]int64{"n1": 49708, "n2": 26863, "n3": 9057}
			n3wins := map[int]row{0: {33, "n3-c0", 12}}
			r := lww(h.ops, h.obs(map[string]map[int]row{"n1": n3wins, "n2": n3wins, "n3": n3wins}, spock), all3)
			Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
			Expect(r.Summary).To(ContainSubstring("0 ties"))
			n1wins := map[int]row{0: {11, "n1-c0", 12}}
			r = lww(h.ops, h.obs(map[string]map[int]row{"n1": n1wins, "n2": n1wins, "n3": n1wins}, spock), all3)
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("key 0 on n1: holds update v=11 by n1-c0 on n1"))
		})
	})

	It("counts a real-time inversion as a finding, not a failure", func() {
		h := newConflictHistory(1)
		// n1's clock runs ahead: its write commits "at" 500 ms but ends at 20 ms;
		// n2's write starts at 30 ms, after it ended, commits at 40 ms and loses.
		h.write("n1-c0", "conflict-update", 0, 11, 10, 500, 20)
		h.write("n2-c0", "conflict-update", 0, 22, 30, 40, 50)
		final := map[int]row{0: {11, "n1-c0", 500}}
		r := lww(h.ops, h.obs(map[string]map[int]row{"n1": final, "n2": final}, nil), verify.HistoryOptions{Survivors: []string{"n1", "n2"}})
		Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		Expect(r.Summary).To(ContainSubstring("1 real-time inversions"))
		Expect(detailsJSON(r)).To(ContainSubstring("key 0: update v=22 by n2-c0 on n2 (committed 19:32:56.040000), started 19:32:56.030000, lost to update v=11 by n1-c0 on n1 (committed 19:32:56.500000), which ended 10ms before"))
	})

	It("counts, not fails, a later write acknowledged by the failed node that no survivor holds", func() {
		h := newConflictHistory(1)
		h.write("n2-c0", "conflict-update", 0, 22, 10, 12, 13)
		h.write("n1-c0", "conflict-update", 0, 11, 10, 14, 15) // n1 died before sending it
		final := map[int]row{0: {22, "n2-c0", 12}}
		r := lww(h.ops, h.obs(map[string]map[int]row{"n2": final, "n3": final}, nil), survivorsN2N3)
		Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		Expect(r.Summary).To(ContainSubstring("1 writes lost with the failed node"))
	})

	It("does not judge a key whose acknowledged write has no commit timestamp", func() {
		h := newConflictHistory(1)
		h.add(history.Op{Process: "n1-c0", Node: "n1", Type: history.Invoke, F: "conflict-update", Value: mustMarshal(map[string]any{"key": 0, "value": 5})}, 10)
		h.add(history.Op{Process: "n1-c0", Node: "n1", Type: history.Ok, F: "conflict-update", Value: mustMarshal(map[string]any{"key": 0, "value": 5, "commit_ts_error": "conn closed"})}, 11)
		final := map[int]row{0: {5, "n1-c0", 11}}
		r := lww(h.ops, h.obs(map[string]map[int]row{"n1": final, "n2": final}, nil), verify.HistoryOptions{Survivors: []string{"n1", "n2"}})
		Expect(r.Verdict).To(Equal(verify.Unknown))
		Expect(r.Summary).To(ContainSubstring("no key could be judged"))
	})
})
