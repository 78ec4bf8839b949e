package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

// PglogicalTieAppliesRemote: pglogical 2 (Debian's postgresql-17-pglogical)
// resolves an insert-insert conflict by last-update-wins on the commit
// times, and when the two are equal it applies the remote row on every
// node: conflict_resolve_by_timestamp (pglogical_conflict.c) says "The
// timestamps were equal, break the tie in a manner that is consistent
// across all nodes. XXX: TODO, for now we just always apply remote
// change." Two nodes that insert different keys with one unique value
// and commit in the same microsecond therefore each take the other's
// row: they end holding each other's key, and a third node holds
// whichever arrived last. Seen in the gate (unique-conflict-crash-restart,
// seed 20261125) and in 2 of 28 reruns of it, where both nodes logged
// "CONFLICT: remote INSERT on relation public.uniq_kv (local index
// uniq_kv_u_key). Resolution: apply_remote." with the local and the
// remote tuple's timestamps equal (15:02:48.801171; README has the
// lines). The evidence Explain wants is the servers' own: every
// node's row for the value carries the same commit time
// (pg_xact_commit_timestamp of its version, which on a subscriber is the
// origin's commit time).
var PglogicalTieAppliesRemote = Finding{
	Flavor: "pglogical", Name: "pglogical-lww-tie-applies-remote",
	Summary:        "inserts of one unique value committed in the same microsecond on two nodes are each resolved as 'apply remote' (last-update-wins has no tie-break), so the nodes swap keys",
	CommitTimeTies: true,
}

// uniqTable is the unique-conflict workload's table as convergence names it.
const uniqTable = "public.uniq_kv"

// tieFinding is the first finding with CommitTimeTies ("" none).
func tieFinding(fs []Finding) string {
	for _, f := range fs {
		if f.CommitTimeTies {
			return f.Name
		}
	}
	return ""
}

// uniqueTies explains a failed unique-conflict check when every value it
// names is a tie and no row lacks an acknowledged insert; it keeps the
// keys and commit times of the ties for convergence.
func (e *explainer) uniqueTies(c verify.CheckResult) (bool, string) {
	name := tieFinding(e.findings)
	if name == "" {
		return false, fmt.Sprintf("%s failed (%s): no finding explains it", c.Name, c.Summary)
	}
	var d struct {
		Differing      []verify.UniqDisagreement `json:"differing"`
		Unacknowledged []string                  `json:"unacknowledged"`
	}
	if !detailsAs(c, &d) || len(d.Differing) == 0 {
		return false, "unique-conflict failed with no values listed: " + c.Summary
	}
	if len(d.Unacknowledged) > 0 {
		return false, "unique-conflict names rows no acknowledged insert wrote, which no tie explains: " + d.Unacknowledged[0]
	}
	e.tieKeys, e.tieTimes = map[string]bool{}, map[time.Time]bool{}
	for _, diff := range d.Differing {
		ts, ok := verify.UniqTie(diff.Holders)
		if !ok {
			return false, "not a tie of commit times: " + diff.Line
		}
		e.tieTimes[ts.UTC()] = true
		for _, row := range diff.Holders {
			e.tieKeys[fmt.Sprint(row.K)] = true
		}
	}
	return true, fmt.Sprintf("unique-conflict: %d values held with different keys, every node's row of each committed in the same microsecond (%s)", len(d.Differing), name)
}

// tieClass explains a convergence class of uniq_kv rows missing on some
// nodes when every row is a key of a tie and its commit times are the
// ties': the classes' rows together are no more than the ties' keys, and
// every key a class names is one.
func (e *explainer) tieClass(c verify.DivergenceClass) (bool, string) {
	if c.FirstCommit == nil || c.LastCommit == nil || !e.tieTimes[c.FirstCommit.UTC()] || !e.tieTimes[c.LastCommit.UTC()] {
		return false, "uniq_kv rows not committed at a tie's time: " + c.Line
	}
	if e.tieRows += c.Rows; e.tieRows > int64(len(e.tieKeys)) {
		return false, fmt.Sprintf("%d uniq_kv rows differ, more than the %d keys of the ties: %s", e.tieRows, len(e.tieKeys), c.Line)
	}
	for _, k := range c.Examples {
		if !e.tieKeys[strings.Trim(k, "()")] {
			return false, "uniq_kv row " + k + " is not a key of a tie: " + c.Line
		}
	}
	return true, fmt.Sprintf("convergence: uniq_kv rows, keys of the ties (%s)", tieFinding(e.findings))
}
