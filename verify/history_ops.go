package verify

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Op names of the workload data contracts.
const (
	opLedgerTxn  = "ledger-txn"
	opLargeTxn   = "large-txn"
	opTransfer   = "transfer"
	opBankInit   = "bank-init"
	opHotUpdate  = "hot-update"
	setupProcess = "setup"
)

// clientOp is one client operation: its invoke and its completion type
// (Info when the history ends before a completion).
type clientOp struct {
	invoke  history.Op
	outcome history.Type
	// value is the completion's value when it has one, else the invoke's.
	value json.RawMessage
	// end is the completion's wall time (zero without one).
	end time.Time
	// endIndex is the completion's history index (MaxInt64 without one).
	endIndex int64
}

// pairOps matches every invoke with the next completion of its process.
// A completion without an invoke stands alone (e.g. setup records).
func pairOps(ops []history.Op) []clientOp {
	sorted := slices.Clone(ops)
	slices.SortStableFunc(sorted, func(a, b history.Op) int { return cmpInt64(a.Index, b.Index) })
	open := map[string]int{} // process -> index into out
	var out []clientOp
	for _, op := range sorted {
		switch op.Type {
		case history.Invoke:
			open[op.Process] = len(out)
			out = append(out, clientOp{invoke: op, outcome: history.Info, value: op.Value, endIndex: math.MaxInt64})
		case history.Ok, history.Fail, history.Info:
			i, ok := open[op.Process]
			if !ok {
				out = append(out, clientOp{invoke: op, outcome: op.Type, value: op.Value, endIndex: op.Index})
				continue
			}
			delete(open, op.Process)
			out[i].outcome = op.Type
			out[i].end = op.Wall
			out[i].endIndex = op.Index
			if len(op.Value) > 0 {
				out[i].value = op.Value
			}
			if out[i].invoke.TxnID == "" {
				out[i].invoke.TxnID = op.TxnID
			}
		}
	}
	return out
}

// ledgerWrite is a ledger-txn or large-txn op: K rows of one txn_id.
type ledgerWrite struct {
	clientOp
	txnID string
	rows  int
}

func ledgerWrites(ops []clientOp) ([]ledgerWrite, error) {
	var out []ledgerWrite
	for _, op := range ops {
		if op.invoke.F != opLedgerTxn && op.invoke.F != opLargeTxn {
			continue
		}
		var v struct {
			Rows int `json:"rows"`
		}
		// The invoke carries the intended row count; a completion may repeat it.
		if err := json.Unmarshal(op.invoke.Value, &v); err != nil || v.Rows <= 0 {
			if err2 := json.Unmarshal(op.value, &v); err2 != nil || v.Rows <= 0 {
				return nil, fmt.Errorf("op %d (%s by %s): no positive \"rows\" in its value", op.invoke.Index, op.invoke.F, op.invoke.Process)
			}
		}
		if op.invoke.TxnID == "" {
			return nil, fmt.Errorf("op %d (%s by %s): no txn_id", op.invoke.Index, op.invoke.F, op.invoke.Process)
		}
		out = append(out, ledgerWrite{clientOp: op, txnID: op.invoke.TxnID, rows: v.Rows})
	}
	return out, nil
}

// presence is how a txn's rows are spread over the survivors.
type presence string

const (
	presentOnAll presence = "present on all"
	absentOnAll  presence = "absent on all"
	split        presence = "split"
)

// presenceOf classifies a txn of k rows: present (k rows) on every
// survivor, absent (0 rows) on every one, or anything else (split).
func presenceOf(obs *Observation, survivors []string, txnID string, k int) (presence, map[string]int) {
	counts := map[string]int{}
	all, none := true, true
	for _, n := range survivors {
		c := obs.PerNode[n].Ledger[txnID]
		counts[n] = c
		if c != k {
			all = false
		}
		if c != 0 {
			none = false
		}
	}
	switch {
	case all:
		return presentOnAll, counts
	case none:
		return absentOnAll, counts
	}
	return split, counts
}
