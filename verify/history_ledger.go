package verify

import (
	"fmt"
	"strings"

	"github.com/spockchaos/spockchaos/workload/history"
)

// txnCounts is a txn and its row counts per survivor, for Details.
type txnCounts struct {
	TxnID  string         `json:"txn_id"`
	Node   string         `json:"node"` // the node the client wrote through
	Rows   int            `json:"rows"` // rows the txn wrote
	Counts map[string]int `json:"counts"`
}

// presenceTally counts txns per presence class, listing some of each.
type presenceTally struct {
	PresentOnAll int         `json:"present_on_all"`
	AbsentOnAll  int         `json:"absent_on_all"`
	Split        int         `json:"split"`
	SplitTxns    []txnCounts `json:"split_txns,omitempty"`
	AbsentTxns   []string    `json:"absent_txns,omitempty"`
}

func (t *presenceTally) add(p presence, w ledgerWrite, counts map[string]int) {
	switch p {
	case presentOnAll:
		t.PresentOnAll++
	case absentOnAll:
		t.AbsentOnAll++
		t.AbsentTxns = listed(t.AbsentTxns, w.txnID)
	default:
		t.Split++
		if len(t.SplitTxns) < maxListed {
			t.SplitTxns = append(t.SplitTxns, txnCounts{TxnID: w.txnID, Node: w.invoke.Node, Rows: w.rows, Counts: counts})
		}
	}
}

// String says why absent-on-all is allowed where there are some: a write
// acknowledged by the failed node that no survivor has was never
// replicated before the failure (replication is asynchronous), so no
// survivor or recovery can have it; only a split (some survivors have
// it) is a failure.
func (t presenceTally) String() string {
	absent := fmt.Sprintf("%d absent on all", t.AbsentOnAll)
	if t.AbsentOnAll > 0 {
		absent += " (never replicated before the failure: allowed)"
	}
	return fmt.Sprintf("%d present on all, %s, %d split", t.PresentOnAll, absent, t.Split)
}

// checkDurability: every ok write through a survivor is present on every
// survivor; ok writes through a failed node are tallied as present on all
// / absent on all / split, and a split fails.
func checkDurability(in historyInput) CheckResult {
	writes, err := ledgerWrites(in.ops)
	if err != nil {
		return unknownf("%v", err)
	}
	type details struct {
		Survivors        []string      `json:"survivors"`
		ViaSurvivors     int           `json:"acknowledged_via_survivors"`
		LostViaSurvivors []txnCounts   `json:"lost_via_survivors,omitempty"`
		Lost             int           `json:"lost_count"`
		ViaFailed        presenceTally `json:"acknowledged_via_failed"`
	}
	d := details{Survivors: in.survivors}
	acked := 0
	for _, w := range writes {
		if w.outcome != history.Ok {
			continue
		}
		acked++
		if n := in.missingLedger(); n != "" {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("%d acknowledged ledger writes, but survivor %s has no ledger table", len(writes), n)}
		}
		p, counts := presenceOf(in.obs, in.survivors, w.txnID, w.rows)
		if in.isSurvivor(w.invoke.Node) {
			d.ViaSurvivors++
			if p != presentOnAll {
				d.Lost++
				if len(d.LostViaSurvivors) < maxListed {
					d.LostViaSurvivors = append(d.LostViaSurvivors, txnCounts{TxnID: w.txnID, Node: w.invoke.Node, Rows: w.rows, Counts: counts})
				}
			}
			continue
		}
		d.ViaFailed.add(p, w, counts)
	}
	if acked == 0 {
		return notApplicable("acknowledged (ok) ledger-txn or large-txn")
	}
	r := CheckResult{Verdict: Pass, Details: d}
	summary := fmt.Sprintf("%d acknowledged writes via survivors: %d missing on some survivor; via failed nodes: %s",
		d.ViaSurvivors, d.Lost, d.ViaFailed)
	if d.Lost > 0 || d.ViaFailed.Split > 0 {
		r.Verdict = Fail
	}
	r.Summary = summary
	return r
}

// checkAtomicity: every ledger txn has 0 or all of its rows on every
// survivor, and a txn whose op failed has none.
func checkAtomicity(in historyInput) CheckResult {
	writes, err := ledgerWrites(in.ops)
	if err != nil {
		return unknownf("%v", err)
	}
	if len(writes) == 0 {
		return notApplicable("ledger-txn or large-txn")
	}
	if n := in.missingLedger(); n != "" {
		return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("%d ledger transactions, but survivor %s has no ledger table", len(writes), n)}
	}
	type details struct {
		Checked       int         `json:"checked"`
		Partial       []txnCounts `json:"partial,omitempty"`
		PartialCount  int         `json:"partial_count"`
		FailedApplied []txnCounts `json:"failed_but_applied,omitempty"`
		FailedCount   int         `json:"failed_but_applied_count"`
	}
	var d details
	for _, w := range writes {
		d.Checked++
		partial, applied := false, false
		counts := map[string]int{}
		for _, n := range in.survivors {
			c := in.obs.PerNode[n].Ledger[w.txnID]
			counts[n] = c
			if c != 0 && c != w.rows {
				partial = true
			}
			if c != 0 {
				applied = true
			}
		}
		tc := txnCounts{TxnID: w.txnID, Node: w.invoke.Node, Rows: w.rows, Counts: counts}
		if partial {
			d.PartialCount++
			if len(d.Partial) < maxListed {
				d.Partial = append(d.Partial, tc)
			}
		}
		if w.outcome == history.Fail && applied {
			d.FailedCount++
			if len(d.FailedApplied) < maxListed {
				d.FailedApplied = append(d.FailedApplied, tc)
			}
		}
	}
	r := CheckResult{Verdict: Pass, Details: d}
	r.Summary = fmt.Sprintf("%d transactions on %s: %d partially present, %d failed but applied",
		d.Checked, strings.Join(in.survivors, ", "), d.PartialCount, d.FailedCount)
	if d.PartialCount > 0 || d.FailedCount > 0 {
		r.Verdict = Fail
	}
	return r
}

// checkIndeterminate resolves info (and never completed) ledger writes
// from the survivors' data; a split fails.
func checkIndeterminate(in historyInput) CheckResult {
	writes, err := ledgerWrites(in.ops)
	if err != nil {
		return unknownf("%v", err)
	}
	var t presenceTally
	n := 0
	for _, w := range writes {
		if w.outcome != history.Info {
			continue
		}
		if m := in.missingLedger(); m != "" {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("indeterminate ledger writes, but survivor %s has no ledger table", m)}
		}
		n++
		p, counts := presenceOf(in.obs, in.survivors, w.txnID, w.rows)
		t.add(p, w, counts)
	}
	if n == 0 {
		return notApplicable("indeterminate (info) ledger-txn or large-txn")
	}
	r := CheckResult{Verdict: Pass, Details: t}
	r.Summary = fmt.Sprintf("%d indeterminate writes: %d applied, %d not applied, %d split", n, t.PresentOnAll, t.AbsentOnAll, t.Split)
	if t.Split > 0 {
		r.Verdict = Fail
	}
	return r
}
