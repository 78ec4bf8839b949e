package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spockchaos/spockchaos/workload/history"
)

// TruncateCheckName is the truncate checker's name.
const TruncateCheckName = "truncate"

// keyOp is an insert of a fresh key (trunc-insert, trunc-side).
type keyOp struct {
	K int64 `json:"k"`
}

// truncOps are the truncate feature's ops: inserts by key, truncates.
type truncOps struct {
	trunc, side map[int64]clientOp
	truncates   []clientOp
	n           int
}

func readTruncOps(ops []clientOp) (truncOps, error) {
	t := truncOps{trunc: map[int64]clientOp{}, side: map[int64]clientOp{}}
	for _, op := range ops {
		if !strings.HasPrefix(op.invoke.F, "trunc-") {
			continue
		}
		t.n++
		if op.invoke.F == "trunc-truncate" {
			t.truncates = append(t.truncates, op)
			continue
		}
		var v keyOp
		if err := json.Unmarshal(op.invoke.Value, &v); err != nil {
			return t, fmt.Errorf("op %d (%s by %s): %v", op.invoke.Index, op.invoke.F, op.invoke.Process, err)
		}
		if op.invoke.F == "trunc-side" {
			t.side[v.K] = op
		} else {
			t.trunc[v.K] = op
		}
	}
	return t, nil
}

// truncFate says what must become of a trunc_kv insert: "keep" (it
// succeeded and no truncate that did not fail ended after it began),
// "gone" (a truncate that succeeded began after it ended), or "" (either).
// Only ops of survivors are judged: a failed node's acknowledged writes
// may never have left it.
func (t truncOps) truncFate(ins clientOp, survivor func(string) bool) string {
	if ins.outcome == history.Fail || !survivor(ins.invoke.Node) {
		return ""
	}
	mayFollow := false
	for _, tr := range t.truncates {
		if tr.outcome == history.Ok && tr.invoke.Index > ins.endIndex && survivor(tr.invoke.Node) {
			return "gone"
		}
		mayFollow = mayFollow || (tr.outcome != history.Fail && tr.endIndex > ins.invoke.Index)
	}
	if ins.outcome == history.Ok && !mayFollow {
		return "keep"
	}
	return ""
}

// checkTruncate judges trunc_kv (written and truncated by one node) and
// trunc_side (written by all meanwhile): every survivor holds each
// trunc_kv row acknowledged after the last truncate that could follow
// it, none that a later acknowledged truncate removed, every
// acknowledged trunc_side row, no row no insert wrote, and the same rows
// as the others.
func checkTruncate(in historyInput) CheckResult {
	t, err := readTruncOps(in.ops)
	if err != nil {
		return unknownf("%v", err)
	}
	if t.n == 0 {
		return notApplicable("trunc-insert, trunc-truncate or trunc-side")
	}
	rows := held{}
	var bad []string
	for _, node := range in.survivors {
		so := in.schemaOf(node)
		if so == nil || so.Trunc == nil || so.TruncSide == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s lacks trunc_kv or trunc_side", node)}
		}
		bad = append(bad, truncViolations(node, "trunc_kv", so.Trunc, t.trunc, func(op clientOp) string { return t.truncFate(op, in.isSurvivor) }, rows)...)
		bad = append(bad, truncViolations(node, "trunc_side", so.TruncSide, t.side, func(op clientOp) string {
			if op.outcome == history.Ok && in.isSurvivor(op.invoke.Node) {
				return "keep"
			}
			return ""
		}, rows)...)
	}
	pass := fmt.Sprintf("%d trunc_kv and trunc_side rows alike on %s after %d ops (%d truncates), every acknowledged row after the last truncate kept",
		len(rows), strings.Join(in.survivors, ", "), t.n, len(t.truncates))
	return featureVerdict(pass, rows.disagreements(in.survivors), bad, "rows lost, kept or never written")
}

// truncViolations names table's rows on node that fate says must be gone
// or no insert wrote, and the inserts fate says must be kept it lacks.
func truncViolations(node, table string, got []KeyRow, inserts map[int64]clientOp, fate func(clientOp) string, rows held) []string {
	var bad []string
	have := map[int64]bool{}
	for _, r := range got {
		have[r.K] = true
		rows.put(fmt.Sprintf("%s k=%d", table, r.K), node, "(by "+r.Writer+")")
		op, ok := inserts[r.K]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s k=%d on %s: no insert of this key in the history", table, r.K, node))
		case op.outcome == history.Fail:
			bad = append(bad, fmt.Sprintf("%s k=%d on %s: its insert (op %d by %s) failed", table, r.K, node, op.invoke.Index, op.invoke.Process))
		case fate(op) == "gone":
			bad = append(bad, fmt.Sprintf("%s k=%d on %s: kept, but a truncate acknowledged after its insert (op %d by %s) removed it", table, r.K, node, op.invoke.Index, op.invoke.Process))
		}
	}
	after := ""
	if table == "trunc_kv" {
		after = " after every truncate"
	}
	for _, k := range slices.Sorted(maps.Keys(inserts)) {
		if op := inserts[k]; !have[k] && fate(op) == "keep" {
			bad = append(bad, fmt.Sprintf("%s k=%d on %s: missing, acknowledged (op %d by %s)%s", table, k, node, op.invoke.Index, op.invoke.Process, after))
		}
	}
	return bad
}
