package reports_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// presenceChecker is a stand-in history checker: every ok ledger write
// must be present on every survivor of an observation shaped
// {"txns": {"n2": ["id", ...], ...}}. It lets RecheckDir be specified
// without depending on verify's own layout.
func presenceChecker(ops []history.Op, observation json.RawMessage, survivors, _ []string) ([]verify.CheckResult, error) {
	var obs struct {
		Txns map[string][]string `json:"txns"`
	}
	if err := json.Unmarshal(observation, &obs); err != nil {
		return nil, err
	}
	has := map[string]map[string]bool{}
	for node, ids := range obs.Txns {
		has[node] = map[string]bool{}
		for _, id := range ids {
			has[node][id] = true
		}
	}
	res := verify.CheckResult{Name: "durability", Verdict: verify.Pass, Summary: "every ok write present"}
	var missing []map[string]any
	for _, op := range ops {
		if op.Type != history.Ok || op.F != "ledger-txn" {
			continue
		}
		for _, s := range survivors {
			if !has[s][op.TxnID] {
				missing = append(missing, map[string]any{"txn_id": op.TxnID, "node": s})
			}
		}
	}
	if len(missing) > 0 {
		res.Verdict = verify.Fail
		res.Summary = fmt.Sprintf("%d ok writes missing", len(missing))
		res.Details = map[string]any{"missing": missing}
	}
	return []verify.CheckResult{res}, nil
}

// storedRun writes a run directory whose history has one ok ledger write
// "t-1" from n2 and whose observation has it on n2 only (or on both).
func storedRun(parent string, lostOnN3 bool, stored verify.Verdict) string {
	dir, err := record.NewRunDir(parent, "kill-one", 3, t0)
	Expect(err).NotTo(HaveOccurred())
	inv := history.Op{Index: 0, Time: 0, Wall: t0, Process: "n2-c0", Node: "n2", Type: history.Invoke, F: "ledger-txn", TxnID: "t-1", Value: json.RawMessage(`{"rows":2}`)}
	ok := inv
	ok.Index, ok.Time, ok.Wall, ok.Type = 1, 10e6, t0.Add(10e6), history.Ok
	writeHistory(filepath.Join(dir, record.HistoryFile), []history.Op{inv, ok})
	n3 := []string{"t-1"}
	if lostOnN3 {
		n3 = []string{}
	}
	run := &record.Run{Scenario: "kill-one", Seed: 3, Survivors: []string{"n2", "n3"}, Failed: []string{"n1"},
		Checkers:    []verify.CheckResult{{Name: "durability", Verdict: stored, Summary: "as stored"}},
		Observation: map[string]any{"txns": map[string]any{"n2": []string{"t-1"}, "n3": n3}}}
	Expect(reports.Write(dir, run, "")).To(Succeed())
	return dir
}

var _ = Describe("re-checking a stored run", func() {
	It("reproduces a stored failure from history.jsonl and observation.json alone", func() {
		dir := storedRun(GinkgoT().TempDir(), true, verify.Fail)
		rc, err := reports.RecheckDir(dir, presenceChecker)
		Expect(err).NotTo(HaveOccurred())
		Expect(rc.Verdict).To(Equal(verify.Fail))
		Expect(rc.StoredHistoryVerdict).To(Equal(verify.Fail))
		Expect(rc.Changed).To(BeFalse())
		Expect(rc.Checkers).To(HaveLen(1))
		Expect(reports.FirstKeys(rc.Checkers[0].Result, 5)).To(Equal([]string{"txn_id=t-1, node=n3"}))
	})

	It("says so when the verdict changed", func() {
		dir := storedRun(GinkgoT().TempDir(), false, verify.Fail)
		rc, err := reports.RecheckDir(dir, presenceChecker)
		Expect(err).NotTo(HaveOccurred())
		Expect(rc.Verdict).To(Equal(verify.Pass))
		Expect(rc.Changed).To(BeTrue())
		Expect(rc.Checkers[0].Stored).To(Equal(verify.Fail))
	})

	It("refuses a run that stored no observation", func() {
		dir := storedRun(GinkgoT().TempDir(), true, verify.Fail)
		Expect(os.Remove(filepath.Join(dir, record.ObservationFile))).To(Succeed())
		_, err := reports.RecheckDir(dir, presenceChecker)
		Expect(err).To(MatchError(ContainSubstring("observation.json")))
	})
})

var _ = Describe("differing rows in checker details", func() {
	It("lists the rows of a convergence report, not its node list or converged tables", func() {
		rows := reports.DiffRowsOf([]verify.CheckResult{convergenceFailure(), {Name: "bank", Verdict: verify.Pass, Details: []any{"ignored"}}})
		Expect(rows).To(HaveLen(1))
		Expect(rows[0].Checker).To(Equal("convergence"))
		Expect(rows[0].Key).To(Equal("public.ledger (n1-4900,1)"))
	})

	It("falls back to listed scalars when there are no objects", func() {
		c := verify.CheckResult{Name: "atomicity", Verdict: verify.Fail, Details: map[string]any{"split": []any{"t-9", "t-12"}}}
		Expect(reports.FirstKeys(c, 5)).To(Equal([]string{"t-9", "t-12"}))
	})
})
