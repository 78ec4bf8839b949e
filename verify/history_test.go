package verify_test

import (
	"bytes"
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// historyBuilder records ops with the real Recorder and keeps them.
type historyBuilder struct {
	rec *history.Recorder
	ops []history.Op
}

func newHistory() *historyBuilder {
	return &historyBuilder{rec: history.NewRecorder(&bytes.Buffer{})}
}

func (h *historyBuilder) write(node, f, txn string, rows int, outcome history.Type) {
	inv := h.rec.Invoke(node+"-c0", node, f, map[string]int{"rows": rows}, txn)
	h.ops = append(h.ops, inv)
	if outcome != history.Invoke { // Invoke: the history ends before a completion
		h.ops = append(h.ops, h.rec.Complete(inv, outcome, nil, ""))
	}
}

func (h *historyBuilder) op(node, process, f string, t history.Type, value any) {
	inv := h.rec.Invoke(process, node, f, value, "")
	h.ops = append(h.ops, inv)
	if t != history.Invoke {
		h.ops = append(h.ops, h.rec.Complete(inv, t, nil, ""))
	}
}

func ledgerObs(per map[string]map[string]int) *verify.Observation {
	obs := &verify.Observation{PerNode: map[string]*verify.NodeObservation{}}
	for _, n := range []string{"n1", "n2", "n3"} {
		if l, ok := per[n]; ok {
			obs.Nodes = append(obs.Nodes, n)
			obs.PerNode[n] = &verify.NodeObservation{Ledger: l}
		}
	}
	return obs
}

func byName(results []verify.CheckResult) map[string]verify.CheckResult {
	m := map[string]verify.CheckResult{}
	for _, r := range results {
		m[r.Name] = r
	}
	return m
}

var survivorsN2N3 = verify.HistoryOptions{Survivors: []string{"n2", "n3"}, Failed: []string{"n1"}}

var _ = Describe("history checkers", func() {
	It("are skipped, never passed, with 'not applicable' when the history has none of their ops; a run of only skipped checkers is unknown", func() {
		results := verify.CheckHistory(nil, ledgerObs(map[string]map[string]int{"n1": {}, "n2": {}}), verify.HistoryOptions{})
		Expect(results).To(HaveLen(13))
		for _, r := range results {
			Expect(r.Verdict).To(Equal(verify.Skipped), r.Name)
			Expect(r.Summary).To(HavePrefix("not applicable: no "), r.Name)
			Expect(r.Problem()).To(BeFalse(), r.Name)
		}
		Expect(verify.Combine(results)).To(Equal(verify.Unknown))
		Expect(verify.Combine(append(results, verify.CheckResult{Name: "convergence", Verdict: verify.Pass}))).To(Equal(verify.Pass))
		Expect(verify.Combine(append(results, verify.CheckResult{Name: "x", Verdict: verify.Fail}))).To(Equal(verify.Fail))
		Expect(verify.Combine(nil)).To(Equal(verify.Unknown))
	})

	It("are all unknown without an observation or with an unobserved survivor", func() {
		for _, r := range verify.CheckHistory(nil, nil, verify.HistoryOptions{}) {
			Expect(r.Verdict).To(Equal(verify.Unknown))
		}
		for _, r := range verify.CheckHistory(nil, ledgerObs(map[string]map[string]int{"n2": {}}), survivorsN2N3) {
			Expect(r.Verdict).To(Equal(verify.Unknown))
			Expect(r.Summary).To(ContainSubstring("survivor n3 was not observed"))
		}
	})

	It("turn a panic into unknown", func() {
		r := verify.RunChecker("boom", func() verify.CheckResult { panic("index out of range") })
		Expect(r.Name).To(Equal("boom"))
		Expect(r.Verdict).To(Equal(verify.Unknown))
		Expect(r.Summary).To(ContainSubstring("index out of range"))
	})

	It("are unknown on a ledger op without a row count", func() {
		h := newHistory()
		h.op("n2", "n2-c0", "ledger-txn", history.Ok, map[string]string{"x": "y"})
		res := byName(verify.CheckHistory(h.ops, ledgerObs(map[string]map[string]int{"n2": {}, "n3": {}}), survivorsN2N3))
		Expect(res["durability"].Verdict).To(Equal(verify.Unknown))
		Expect(res["atomicity"].Verdict).To(Equal(verify.Unknown))
	})

	Describe("durability", func() {
		It("passes when every write acknowledged by a survivor is on every survivor, and tallies the failed node's", func() {
			h := newHistory()
			h.write("n2", "ledger-txn", "a", 3, history.Ok)
			h.write("n3", "large-txn", "b", 20000, history.Ok)
			h.write("n1", "ledger-txn", "c", 2, history.Ok) // failed node, replicated
			h.write("n1", "ledger-txn", "d", 2, history.Ok) // failed node, lost everywhere
			obs := ledgerObs(map[string]map[string]int{"n2": {"a": 3, "b": 20000, "c": 2}, "n3": {"a": 3, "b": 20000, "c": 2}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["durability"]
			Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
			Expect(r.Summary).To(Equal("2 acknowledged writes via survivors: 0 missing on some survivor; via failed nodes: 1 present on all, 1 absent on all (never replicated before the failure: allowed), 0 split"))
		})

		It("fails when a write acknowledged by a survivor is missing on one survivor", func() {
			h := newHistory()
			h.write("n2", "ledger-txn", "a", 3, history.Ok)
			h.write("n2", "ledger-txn", "b", 3, history.Ok)
			obs := ledgerObs(map[string]map[string]int{"n2": {"a": 3, "b": 3}, "n3": {"a": 3}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["durability"]
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("1 missing on some survivor"))
			b, err := json.Marshal(r.Details)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(b)).To(ContainSubstring(`"lost_via_survivors":[{"txn_id":"b","node":"n2","rows":3,"counts":{"n2":3,"n3":0}}]`))
		})

		It("fails when a write acknowledged by the failed node is on some survivors only", func() {
			h := newHistory()
			h.write("n1", "ledger-txn", "c", 2, history.Ok)
			obs := ledgerObs(map[string]map[string]int{"n2": {"c": 2}, "n3": {}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["durability"]
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("0 present on all, 0 absent on all, 1 split"))
		})

		It("ignores writes that failed or are indeterminate", func() {
			h := newHistory()
			h.write("n2", "ledger-txn", "a", 3, history.Fail)
			h.write("n2", "ledger-txn", "b", 3, history.Info)
			r := byName(verify.CheckHistory(h.ops, ledgerObs(map[string]map[string]int{"n2": {}, "n3": {}}), survivorsN2N3))["durability"]
			Expect(r.Verdict).To(Equal(verify.Skipped))
			Expect(r.Summary).To(HavePrefix("not applicable"))
		})
	})

	Describe("atomicity", func() {
		It("passes when every transaction is whole or absent on each survivor", func() {
			h := newHistory()
			h.write("n2", "ledger-txn", "a", 3, history.Ok)
			h.write("n1", "ledger-txn", "b", 3, history.Info)
			obs := ledgerObs(map[string]map[string]int{"n2": {"a": 3, "b": 3}, "n3": {"a": 3}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["atomicity"]
			Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		})

		It("fails on a partially present transaction", func() {
			h := newHistory()
			h.write("n2", "ledger-txn", "a", 3, history.Ok)
			obs := ledgerObs(map[string]map[string]int{"n2": {"a": 3}, "n3": {"a": 2}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["atomicity"]
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("1 partially present"))
		})

		It("fails on a transaction whose op failed but whose rows exist", func() {
			h := newHistory()
			h.write("n2", "ledger-txn", "a", 3, history.Fail)
			obs := ledgerObs(map[string]map[string]int{"n2": {"a": 3}, "n3": {"a": 3}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["atomicity"]
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("1 failed but applied"))
		})
	})

	Describe("indeterminate writes", func() {
		It("resolves info and never-completed writes as applied, not applied or split; a split fails", func() {
			h := newHistory()
			h.write("n1", "ledger-txn", "applied", 2, history.Info)
			h.write("n1", "ledger-txn", "lost", 2, history.Info)
			h.write("n2", "ledger-txn", "open", 2, history.Invoke)
			obs := ledgerObs(map[string]map[string]int{"n2": {"applied": 2, "open": 2}, "n3": {"applied": 2, "open": 2}})
			r := byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["indeterminate"]
			Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
			Expect(r.Summary).To(Equal("3 indeterminate writes: 2 applied, 1 not applied, 0 split"))

			obs.PerNode["n3"].Ledger = map[string]int{"applied": 2}
			r = byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["indeterminate"]
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("1 split"))
		})
	})

	Describe("bank invariant", func() {
		bankHistory := func() *historyBuilder {
			h := newHistory()
			h.op("", "setup", "bank-init", history.Ok, map[string]any{"accounts_per_owner": 10, "initial_balance": 100, "owners": []string{"n1", "n2"}})
			h.op("n2", "n2-c0", "transfer", history.Ok, map[string]any{"owner": "n2", "from": 3, "to": 7, "amount": 5})
			return h
		}
		bankObs := func(n2, n3 map[string]int64) *verify.Observation {
			obs := ledgerObs(map[string]map[string]int{"n2": nil, "n3": nil})
			obs.PerNode["n2"].Bank = &verify.BankObservation{Totals: n2, Accounts: map[string]int64{"n1": 10, "n2": 10}}
			obs.PerNode["n3"].Bank = &verify.BankObservation{Totals: n3, Accounts: map[string]int64{"n1": 10, "n2": 10}}
			return obs
		}

		It("passes when every owner's total is the initial total on every survivor", func() {
			obs := bankObs(map[string]int64{"n1": 1000, "n2": 1000}, map[string]int64{"n1": 1000, "n2": 1000})
			r := byName(verify.CheckHistory(bankHistory().ops, obs, survivorsN2N3))["bank-invariant"]
			Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		})

		It("fails when a total changed on one survivor, naming node and owner", func() {
			obs := bankObs(map[string]int64{"n1": 1000, "n2": 1000}, map[string]int64{"n1": 1000, "n2": 995})
			r := byName(verify.CheckHistory(bankHistory().ops, obs, survivorsN2N3))["bank-invariant"]
			Expect(r.Verdict).To(Equal(verify.Fail))
			Expect(r.Summary).To(ContainSubstring("n3 owner n2: total 995 in 10 accounts"))
		})

		It("fails when a survivor has no bank table, and is unknown when transfers have no bank-init", func() {
			obs := bankObs(map[string]int64{"n1": 1000, "n2": 1000}, nil)
			obs.PerNode["n3"].Bank = nil
			Expect(byName(verify.CheckHistory(bankHistory().ops, obs, survivorsN2N3))["bank-invariant"].Verdict).To(Equal(verify.Fail))
			h := newHistory()
			h.op("n2", "n2-c0", "transfer", history.Ok, map[string]any{"owner": "n2", "from": 3, "to": 7, "amount": 5})
			Expect(byName(verify.CheckHistory(h.ops, obs, survivorsN2N3))["bank-invariant"].Verdict).To(Equal(verify.Unknown))
		})
	})

	Describe("hotkey convergence", func() {
		hot := func() []history.Op {
			h := newHistory()
			h.op("n2", "n2-c0", "hot-update", history.Ok, map[string]int{"key": 1, "value": 5})
			return h.ops
		}
		obsWith := func(n2, n3 []verify.HotkeyRow) *verify.Observation {
			obs := ledgerObs(map[string]map[string]int{"n2": nil, "n3": nil})
			obs.PerNode["n2"].Hotkey, obs.PerNode["n3"].Hotkey = n2, n3
			return obs
		}

		It("passes when the hot rows are identical on every survivor", func() {
			rows := []verify.HotkeyRow{{K: 1, V: 5, Writer: "n2"}, {K: 2, V: 9, Writer: "n3"}}
			r := byName(verify.CheckHistory(hot(), obsWith(rows, rows), survivorsN2N3))["hotkey-convergence"]
			Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		})

		It("fails when a value, a writer or a whole row differs", func() {
			a := []verify.HotkeyRow{{K: 1, V: 5, Writer: "n2"}, {K: 2, V: 9, Writer: "n3"}}
			for _, b := range [][]verify.HotkeyRow{
				{{K: 1, V: 6, Writer: "n2"}, {K: 2, V: 9, Writer: "n3"}},
				{{K: 1, V: 5, Writer: "n3"}, {K: 2, V: 9, Writer: "n3"}},
				{{K: 2, V: 9, Writer: "n3"}},
			} {
				r := byName(verify.CheckHistory(hot(), obsWith(a, b), survivorsN2N3))["hotkey-convergence"]
				Expect(r.Verdict).To(Equal(verify.Fail))
				Expect(r.Summary).To(HavePrefix("1 of 2 hot keys differ"))
			}
		})
	})

	It("give the same results on an observation stored as JSON and loaded back", func() {
		h := newHistory()
		h.write("n2", "ledger-txn", "a", 3, history.Ok)
		h.write("n1", "ledger-txn", "b", 3, history.Info)
		obs := ledgerObs(map[string]map[string]int{"n2": {"a": 3}, "n3": {"a": 3}})
		obs.PerNode["n2"].Hotkey = []verify.HotkeyRow{}
		raw, err := json.Marshal(obs)
		Expect(err).NotTo(HaveOccurred())
		var loaded verify.Observation
		Expect(json.Unmarshal(raw, &loaded)).To(Succeed())
		Expect(verify.CheckHistory(h.ops, &loaded, survivorsN2N3)).To(Equal(verify.CheckHistory(h.ops, obs, survivorsN2N3)))
	})
})
