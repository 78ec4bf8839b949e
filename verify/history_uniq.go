package verify

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// For the unique-conflict workload (uniq_kv, observed per node), every
// survivor must hold the same primary key for each unique value, or none
// (both flavors resolve a remote insert that meets another key's unique
// value by last-update-wins; Spock only with spock.check_all_uc_indexes
// on), and every row held must come from an insert that did not fail
// (ok or info). A violation names the value and each node's key and
// writer ("u=3: n1 holds k=11 (by n1-c0), n2 holds none, ..."); the
// summary counts the values acknowledged on two or more nodes (the races).

// UniqueCheckName is the unique-conflict checker's name.
const UniqueCheckName = "unique-conflict"

// Op names of the unique-conflict workload (workload.FUniqInsert, ...).
const (
	opUniqInsert = "uniq-insert"
	opUniqDelete = "uniq-delete"
)

// uniqOpValue is the Value of a unique-conflict op.
type uniqOpValue struct {
	U int   `json:"u"`
	K int64 `json:"k"`
}

// UniqDisagreement is one unique value the survivors do not agree on:
// the row each holds for it (nil: none). When every survivor's row
// carries the same commit time (UniqTie: two nodes inserted the value in
// the same microsecond, and last-update-wins has no winner by time) the
// line says it is a tie.
type UniqDisagreement struct {
	U       int                 `json:"u"`
	Holders map[string]*UniqRow `json:"holders"`
	Line    string              `json:"line"`
}

// checkUnique judges the unique-conflict workload. Both flavors resolve
// an insert that meets another key's unique value on a subscriber (as an
// insert-insert conflict by last-update-wins; Spock only with
// spock.check_all_uc_indexes on, else the apply errs), so what is
// promised is convergence: every survivor holds the same key for each
// unique value, or none. And every row held was written by an insert
// that did not fail. Each violation names the unique value and the keys.
func checkUnique(in historyInput) CheckResult {
	inserts, contended, n, err := uniqOps(in.ops)
	if err != nil {
		return unknownf("%v", err)
	}
	if n == 0 {
		return notApplicable("uniq-insert or uniq-delete")
	}
	holders, missing := rowsByKey(in.survivors, func(n string) []UniqRow { return in.obs.PerNode[n].Uniq }, func(r *UniqRow) int { return r.U })
	if missing != "" {
		return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no uniq_kv table", missing)}
	}
	var diffs []UniqDisagreement
	var phantoms []string
	for _, u := range slices.Sorted(maps.Keys(holders)) {
		if d, ok := uniqDisagreement(u, holders[u], in.survivors); !ok {
			diffs = append(diffs, d)
		}
		for _, node := range in.survivors {
			if row := holders[u][node]; row != nil {
				if why := unacknowledged(row, inserts); why != "" {
					phantoms = listed(phantoms, fmt.Sprintf("u=%d k=%d on %s: %s", u, row.K, node, why))
				}
			}
		}
	}
	return uniqVerdict(diffs, phantoms, len(holders), n, len(contended), in.survivors)
}

// uniqOps indexes the inserts by key and counts the unique values that
// acknowledged inserts on two or more nodes (the races).
func uniqOps(ops []clientOp) (map[int64]clientOp, map[int]bool, int, error) {
	inserts := map[int64]clientOp{}
	nodesOf := map[int]map[string]bool{}
	n := 0
	for _, op := range ops {
		if op.invoke.F != opUniqInsert && op.invoke.F != opUniqDelete {
			continue
		}
		n++
		if op.invoke.F == opUniqDelete {
			continue
		}
		var v uniqOpValue
		if err := json.Unmarshal(op.invoke.Value, &v); err != nil {
			return nil, nil, 0, fmt.Errorf("op %d (%s by %s): %v", op.invoke.Index, op.invoke.F, op.invoke.Process, err)
		}
		inserts[v.K] = op
		if op.outcome == history.Ok {
			if nodesOf[v.U] == nil {
				nodesOf[v.U] = map[string]bool{}
			}
			nodesOf[v.U][op.invoke.Node] = true
		}
	}
	contended := map[int]bool{}
	for u, nodes := range nodesOf {
		if len(nodes) > 1 {
			contended[u] = true
		}
	}
	return inserts, contended, n, nil
}

// uniqDisagreement reports whether every survivor holds the same key for
// u (ok), and else the line that names each one's.
func uniqDisagreement(u int, held map[string]*UniqRow, survivors []string) (UniqDisagreement, bool) {
	d := UniqDisagreement{U: u, Holders: map[string]*UniqRow{}}
	same := true
	var parts []string
	for _, node := range survivors {
		row := held[node]
		d.Holders[node] = row
		same = same && sameHolder(row, held[survivors[0]])
		if row == nil {
			parts = append(parts, node+" holds none")
		} else {
			parts = append(parts, fmt.Sprintf("%s holds k=%d (by %s)", node, row.K, row.Writer))
		}
	}
	d.Line = fmt.Sprintf("u=%d: %s", u, strings.Join(parts, ", "))
	if !same {
		if ts, ok := UniqTie(d.Holders); ok {
			d.Line += fmt.Sprintf(" (every row committed at %s: a tie)", ts.UTC().Format("15:04:05.000000"))
		}
	}
	return d, same
}

// UniqTie is the commit time every holder's row carries, when every
// survivor holds a row with a known one and they are all equal (a tie).
func UniqTie(holders map[string]*UniqRow) (time.Time, bool) {
	var ts time.Time
	for _, row := range holders {
		if row == nil || row.CommitTS == nil || !ts.IsZero() && !row.CommitTS.Equal(ts) {
			return time.Time{}, false
		}
		ts = *row.CommitTS
	}
	return ts, !ts.IsZero()
}

func sameHolder(a, b *UniqRow) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.K == b.K
}

// unacknowledged says why row was not written by an insert that did not
// fail ("" when it was).
func unacknowledged(row *UniqRow, inserts map[int64]clientOp) string {
	op, ok := inserts[row.K]
	switch {
	case !ok:
		return "no insert of this key in the history"
	case op.outcome == history.Fail:
		return fmt.Sprintf("its insert (op %d by %s) failed", op.invoke.Index, op.invoke.Process)
	}
	return ""
}

func uniqVerdict(diffs []UniqDisagreement, phantoms []string, values, ops, races int, survivors []string) CheckResult {
	on := strings.Join(survivors, ", ")
	if len(diffs) == 0 && len(phantoms) == 0 {
		return CheckResult{Verdict: Pass, Summary: fmt.Sprintf("%d unique values held alike on %s after %d ops (%d values inserted on two or more nodes)", values, on, ops, races)}
	}
	var lines []string
	for _, d := range diffs {
		lines = listed(lines, d.Line)
	}
	summary := fmt.Sprintf("%d of %d unique values differ among %s after %d ops", len(diffs), values, on, ops)
	if len(lines) > 0 {
		summary += ": " + strings.Join(lines[:min(3, len(lines))], "; ")
	}
	if len(phantoms) > 0 {
		summary += fmt.Sprintf("; %d rows no acknowledged insert wrote: %s", len(phantoms), phantoms[0])
	}
	return CheckResult{Verdict: Fail, Summary: summary, Details: map[string]any{"differing": diffs, "unacknowledged": phantoms}}
}
