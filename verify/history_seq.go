package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spockchaos/spockchaos/workload/history"
)

// SequenceCheckName is the sequence-keys checker's name.
const SequenceCheckName = "sequence-keys"

// checkSequence judges seq_kv, whose keys come from each node's own
// sequence: no two acknowledged inserts got the same key, every survivor
// holds each acknowledged insert under the key it got (a row there with
// another txn is a collision that overwrote it), no row no insert wrote,
// and the survivors hold the same rows.
func checkSequence(in historyInput) CheckResult {
	n := 0
	byTxn := map[string]clientOp{}
	gotKey := map[int64]string{} // key -> txn of the acknowledged insert that got it
	var bad []string
	for _, op := range in.ops {
		if op.invoke.F != "seq-insert" {
			continue
		}
		n++
		byTxn[op.invoke.TxnID] = op
		if op.outcome != history.Ok {
			continue
		}
		var v keyOp
		if err := json.Unmarshal(op.value, &v); err != nil || v.K == 0 {
			return unknownf("op %d (seq-insert by %s): no key in its ok completion (%v)", op.invoke.Index, op.invoke.Process, err)
		}
		if other, dup := gotKey[v.K]; dup {
			bad = append(bad, fmt.Sprintf("k=%d: acknowledged to %s and %s (the sequences collide)", v.K, other, op.invoke.TxnID))
		}
		gotKey[v.K] = op.invoke.TxnID
	}
	if n == 0 {
		return notApplicable("seq-insert")
	}
	rows := held{}
	for _, node := range in.survivors {
		so := in.schemaOf(node)
		if so == nil || so.Seq == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no seq_kv table", node)}
		}
		bad = append(bad, seqViolations(in, node, so.Seq, byTxn, gotKey, rows)...)
	}
	pass := fmt.Sprintf("%d seq_kv rows alike on %s after %d inserts, every acknowledged key held by its insert",
		len(rows), strings.Join(in.survivors, ", "), n)
	return featureVerdict(pass, rows.disagreements(in.survivors), bad, "keys lost, overwritten or never written")
}

func seqViolations(in historyInput, node string, got []SeqRow, byTxn map[string]clientOp, gotKey map[int64]string, rows held) []string {
	var bad []string
	have := map[int64]string{}
	for _, r := range got {
		have[r.K] = r.Txn
		rows.put(fmt.Sprintf("k=%d", r.K), node, fmt.Sprintf("(%s by %s)", r.Txn, r.Writer))
		op, ok := byTxn[r.Txn]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("k=%d on %s: %s is no insert of the history", r.K, node, r.Txn))
		case op.outcome == history.Fail:
			bad = append(bad, fmt.Sprintf("k=%d on %s: its insert %s failed", r.K, node, r.Txn))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(gotKey)) {
		txn := gotKey[k]
		if !in.isSurvivor(byTxn[txn].invoke.Node) {
			continue // a failed node's acknowledged insert may never have left it
		}
		switch held, ok := have[k]; {
		case !ok:
			bad = append(bad, fmt.Sprintf("k=%d on %s: missing, acknowledged to %s", k, node, txn))
		case held != txn:
			bad = append(bad, fmt.Sprintf("k=%d on %s: holds %s, acknowledged to %s (overwritten)", k, node, held, txn))
		}
	}
	return bad
}
