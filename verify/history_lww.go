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

// For every key of the conflict workload (conflict_kv), each survivor
// must hold the value of the acknowledged write that last-update-wins
// picks: the latest commit timestamp (recorded by the client right after
// its commit), ties broken as the flavor breaks them (TieRule: Spock, the
// lower origin tiebreaker, by default node_id; pglogical, no rule, so
// either tied write is accepted and the tie counted), or no row when that
// write is a delete. A remote DELETE applies whatever its timestamp and
// leaves no tombstone (both flavors), so an absent row is right when no
// acknowledged insert follows the last delete; updates lost that way are
// counted. Acknowledged writes of a failed node that no survivor holds are
// counted as lost with it, not failed (durability judges them). Each
// violation names the key, the node, the version it holds and the writes
// that should have won, with their nodes and commit timestamps. Real-time
// inversions (an acknowledged write that started after another ended and
// still lost to it, as skewed clocks make happen) are counted and listed
// as a finding, never a failure. A key with an acknowledged write whose
// commit timestamp is unknown is not judged (listed).

// LWWCheckName is the last-update-wins checker's name.
const LWWCheckName = "last-update-wins"

// Op names of the conflict workload (workload.FConflict*).
const (
	opConflictInit   = "conflict-init"
	opConflictInsert = "conflict-insert"
	opConflictUpdate = "conflict-update"
	opConflictDelete = "conflict-delete"
	conflictSetup    = "setup" // the writer of conflict-init's rows
)

// TieRule says how a commit-timestamp tie between two nodes' writes is
// broken, from the flavors' source:
//   - pglogical 2.x (pglogical_conflict.c, conflict_resolve_by_timestamp):
//     equal timestamps "always apply remote change" (a TODO in the
//     source): no order, each node keeps the other's write, so a tie can
//     diverge; the checker accepts either tied write and counts the tie.
//   - Spock (src/spock_conflict.c, conflict_resolve_by_timestamp): equal
//     timestamps compare the two origin nodes' tiebreaker (spock.node info
//     "tiebreaker", by default the 16-bit node_id) and the LOWER one wins;
//     the checker applies it when the observation holds the tiebreakers.
//
// Deletes: both apply a remote DELETE whatever its timestamp and keep no
// tombstone, so an update concurrent with a delete can be lost to it; an
// absent row is last-update-wins' outcome when the latest delete is
// followed by no acknowledged insert. Such lost updates are counted.
const TieRule = "latest commit timestamp wins; on a tie, Spock: lower origin tiebreaker (node_id) wins; pglogical: undefined (remote applied), either tied write accepted"

// lwwWrite is one write to a conflict key, as the history tells it.
type lwwWrite struct {
	F          string     `json:"f"`
	Node       string     `json:"node"`
	Process    string     `json:"process"`
	Value      *int64     `json:"value,omitempty"`
	CommitTS   *time.Time `json:"commit_ts,omitempty"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end,omitempty"`
	Outcome    string     `json:"outcome"`
	key        int
	init       bool // a conflict-init row (earliest of all)
	lost       bool // already counted as lost with the failed node
	lostToDel  bool // already counted as lost to a concurrent delete
	isDelete   bool
	viaFailure bool // acknowledged by a node that did not survive
}

func (w *lwwWrite) String() string {
	if w.init {
		return "the initial row"
	}
	what := strings.TrimPrefix(w.F, "conflict-")
	if w.Value != nil {
		what += fmt.Sprintf(" v=%d", *w.Value)
	}
	ts := "commit ts unknown"
	if w.CommitTS != nil {
		ts = "committed " + w.CommitTS.UTC().Format("15:04:05.000000")
	}
	return fmt.Sprintf("%s by %s on %s (%s)", what, w.Process, w.Node, ts)
}

// lwwOrder orders writes by last-update-wins: +1 if a wins over b, -1 if
// b wins, 0 if tied with no rule to break the tie.
type lwwOrder struct{ tiebreakers map[string]int64 }

func (o lwwOrder) cmp(a, b *lwwWrite) int {
	switch {
	case a.init && b.init:
		return 0
	case a.init:
		return -1
	case b.init:
		return 1
	}
	if c := a.CommitTS.Compare(*b.CommitTS); c != 0 {
		return c
	}
	ta, oka := o.tiebreakers[a.Node]
	tb, okb := o.tiebreakers[b.Node]
	if !oka || !okb || ta == tb || a.Node == b.Node {
		return 0
	}
	if ta < tb {
		return 1
	}
	return -1
}

// lwwViolation is a survivor holding a version of a key that a later
// acknowledged write should have replaced.
type lwwViolation struct {
	Key    int    `json:"key"`
	Node   string `json:"node"`
	Reason string `json:"reason"`
	// Holds is the write whose value the node holds (nil: absent).
	Holds *lwwWrite `json:"holds,omitempty"`
	// ShouldHaveWon are the acknowledged writes that beat it.
	ShouldHaveWon []*lwwWrite `json:"should_have_won,omitempty"`
}

type lwwDetails struct {
	TieRule        string         `json:"tie_rule"`
	Keys           int            `json:"keys_judged"`
	MultiNodeKeys  int            `json:"keys_written_on_several_nodes"`
	Writes         int            `json:"acknowledged_writes"`
	Violations     []lwwViolation `json:"violations,omitempty"`
	ViolationCount int            `json:"violation_count"`
	Unjudged       []string       `json:"unjudged,omitempty"`
	Ties           int            `json:"ties"`
	// Findings, not failures (lines, so that reports list violations only).
	Inversions      int      `json:"real_time_inversions"`
	InversionLines  []string `json:"real_time_inversion_examples,omitempty"`
	LostToDelete    int      `json:"updates_lost_to_a_concurrent_delete"`
	LostWithFailed  int      `json:"writes_lost_with_failed_node"`
	LostWithFailedL []string `json:"writes_lost_with_failed_node_examples,omitempty"`
}

// checkLWW: for every key of the conflict workload, each survivor holds
// the value of the acknowledged write that last-update-wins picks (see
// TieRule), or no row when that write is a delete. It also counts
// real-time inversions (a write that started after another ended and
// still lost to it: what skewed clocks do), a finding, not a failure.
func checkLWW(in historyInput) CheckResult {
	writes, keys, err := conflictWrites(in)
	if err != nil {
		return unknownf("%v", err)
	}
	if len(writes) == 0 {
		return notApplicable("conflict-insert, conflict-update or conflict-delete")
	}
	order := lwwOrder{tiebreakers: in.tiebreakers()}
	d := lwwDetails{TieRule: TieRule}
	byKey := map[int][]*lwwWrite{}
	for _, w := range writes {
		byKey[w.key] = append(byKey[w.key], w)
		if w.Outcome == string(history.Ok) && !w.init {
			d.Writes++
		}
	}
	rows := map[string]map[int]*ConflictRow{}
	for _, n := range in.survivors {
		obs := in.obs.PerNode[n].Conflict
		if obs == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("%d conflict writes, but survivor %s has no conflict_kv table", d.Writes, n)}
		}
		rows[n] = map[int]*ConflictRow{}
		for i := range obs {
			rows[n][obs[i].K] = &obs[i]
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		ws := byKey[k]
		if u := untimed(ws); u != nil {
			d.Unjudged = listed(d.Unjudged, fmt.Sprintf("key %d: %s has no commit timestamp", k, u))
			continue
		}
		d.Keys++
		if nodesWriting(ws) > 1 {
			d.MultiNodeKeys++
		}
		d.Ties += ties(order, ws)
		inversions(order, k, ws, &d)
		for _, n := range in.survivors {
			if v := judgeKey(order, k, n, rows[n][k], ws, &d); v != nil {
				d.ViolationCount++
				if len(d.Violations) < maxListed {
					d.Violations = append(d.Violations, *v)
				}
			}
		}
	}
	sum := fmt.Sprintf("%d keys (%d written on several nodes), %d acknowledged writes on %s: %d violations; findings: %d real-time inversions, %d ties, %d updates lost to a concurrent delete, %d writes lost with the failed node",
		d.Keys, d.MultiNodeKeys, d.Writes, strings.Join(in.survivors, ", "), d.ViolationCount, d.Inversions, d.Ties, d.LostToDelete, d.LostWithFailed)
	if len(d.Unjudged) > 0 {
		sum += fmt.Sprintf("; %d keys not judged", len(d.Unjudged))
	}
	switch {
	case d.ViolationCount > 0:
		v := d.Violations[0]
		return CheckResult{Verdict: Fail, Details: d, Summary: fmt.Sprintf("%s; first: key %d on %s: %s", sum, v.Key, v.Node, v.Reason)}
	case d.Keys == 0:
		return CheckResult{Verdict: Unknown, Details: d, Summary: "no key could be judged: " + sum}
	}
	return CheckResult{Verdict: Pass, Details: d, Summary: sum}
}

// judgeKey judges survivor n's version of key k (row nil: absent).
func judgeKey(o lwwOrder, k int, n string, row *ConflictRow, ws []*lwwWrite, d *lwwDetails) *lwwViolation {
	if row == nil {
		return judgeAbsent(o, k, n, ws, d)
	}
	holds := writeOf(ws, row)
	if holds == nil {
		return &lwwViolation{Key: k, Node: n, Reason: fmt.Sprintf("holds v=%d by %s, which no recorded write wrote", row.V, row.Writer)}
	}
	if holds.CommitTS == nil && !holds.init {
		holds.CommitTS = row.CommitTS // an info write that happened
		if holds.CommitTS == nil {
			d.Unjudged = listed(d.Unjudged, fmt.Sprintf("key %d on %s: holds %s, commit ts unknown", k, n, holds))
			return nil
		}
	}
	var beat []*lwwWrite
	for _, w := range ws {
		if w == holds || w.Outcome != string(history.Ok) || o.cmp(w, holds) <= 0 {
			continue
		}
		if w.viaFailure {
			d.lostWithFailed(k, w)
			continue
		}
		beat = append(beat, w)
	}
	if len(beat) == 0 {
		return nil
	}
	return &lwwViolation{Key: k, Node: n, Holds: holds, ShouldHaveWon: beat,
		Reason: fmt.Sprintf("holds %s, but %s is later and acknowledged", holds, latest(o, beat))}
}

// judgeAbsent: no row is right when the latest acknowledged delete is
// followed by no acknowledged insert (updates after it are lost to it).
func judgeAbsent(o lwwOrder, k int, n string, ws []*lwwWrite, d *lwwDetails) *lwwViolation {
	var last *lwwWrite
	for _, w := range ws {
		if w.isDelete && w.CommitTS != nil && (last == nil || o.cmp(w, last) > 0) {
			last = w
		}
	}
	var resurrect, lost []*lwwWrite
	for _, w := range ws {
		if w.isDelete || w.Outcome != string(history.Ok) || (last != nil && o.cmp(w, last) <= 0) {
			continue
		}
		switch {
		case w.viaFailure:
			d.lostWithFailed(k, w)
		case w.F == opConflictInsert || w.init || last == nil:
			resurrect = append(resurrect, w)
		default:
			lost = append(lost, w)
		}
	}
	if len(resurrect) > 0 {
		reason := "absent, but no write deleted it"
		if last != nil {
			reason = fmt.Sprintf("absent, but %s came after the last delete (%s)", latest(o, resurrect), last)
		}
		return &lwwViolation{Key: k, Node: n, Reason: reason, ShouldHaveWon: resurrect}
	}
	for _, w := range lost {
		if !w.lostToDel {
			w.lostToDel = true
			d.LostToDelete++
		}
	}
	return nil
}

// writeOf finds the write whose value row holds (values are unique per write).
func writeOf(ws []*lwwWrite, row *ConflictRow) *lwwWrite {
	for _, w := range ws {
		switch {
		case w.init && row.Writer == conflictSetup && row.V == 0:
			return w
		case !w.isDelete && w.Value != nil && *w.Value == row.V && w.Process == row.Writer:
			return w
		}
	}
	return nil
}

func latest(o lwwOrder, ws []*lwwWrite) *lwwWrite {
	best := ws[0]
	for _, w := range ws[1:] {
		if o.cmp(w, best) > 0 {
			best = w
		}
	}
	return best
}

// untimed is an acknowledged write of the key without a commit timestamp.
func untimed(ws []*lwwWrite) *lwwWrite {
	for _, w := range ws {
		if !w.init && w.Outcome == string(history.Ok) && w.CommitTS == nil {
			return w
		}
	}
	return nil
}

func nodesWriting(ws []*lwwWrite) int {
	nodes := map[string]bool{}
	for _, w := range ws {
		if !w.init && w.Outcome == string(history.Ok) {
			nodes[w.Node] = true
		}
	}
	return len(nodes)
}

// ties counts pairs of acknowledged writes of different nodes with equal
// commit timestamps that the flavor's rule does not order.
func ties(o lwwOrder, ws []*lwwWrite) int {
	n := 0
	acked := ackedTimed(ws)
	for i, a := range acked {
		for _, b := range acked[i+1:] {
			if a.Node != b.Node && a.CommitTS.Equal(*b.CommitTS) && o.cmp(a, b) == 0 {
				n++
			}
		}
	}
	return n
}

// inversions counts the acknowledged writes B for which some acknowledged
// write A wins by last-update-wins although A ended before B started.
func inversions(o lwwOrder, k int, ws []*lwwWrite, d *lwwDetails) {
	acked := ackedTimed(ws)
	slices.SortStableFunc(acked, func(a, b *lwwWrite) int { return -o.cmp(a, b) }) // latest first
	// earliest is, of the writes that beat the current group, the one
	// that ended first: B is inverted iff it ended before B started.
	var earliest *lwwWrite
	for i := 0; i < len(acked); {
		j := i + 1
		for j < len(acked) && o.cmp(acked[i], acked[j]) == 0 {
			j++
		}
		for _, b := range acked[i:j] {
			if earliest != nil && earliest.End.Before(b.Start) {
				d.Inversions++
				d.InversionLines = listed(d.InversionLines, fmt.Sprintf("key %d: %s, started %s, lost to %s, which ended %s before",
					k, b, b.Start.UTC().Format("15:04:05.000000"), earliest, b.Start.Sub(earliest.End)))
			}
		}
		for _, a := range acked[i:j] {
			if earliest == nil || a.End.Before(earliest.End) {
				earliest = a
			}
		}
		i = j
	}
}

func ackedTimed(ws []*lwwWrite) []*lwwWrite {
	var out []*lwwWrite
	for _, w := range ws {
		if !w.init && w.Outcome == string(history.Ok) && w.CommitTS != nil {
			out = append(out, w)
		}
	}
	return out
}

// conflictWrites reads the conflict ops of the history: every ok or info
// write (a fail certainly wrote nothing) and, per key of conflict-init,
// its initial row.
func conflictWrites(in historyInput) ([]*lwwWrite, map[int]bool, error) {
	var out []*lwwWrite
	keys := map[int]bool{}
	for _, op := range in.ops {
		f := op.invoke.F
		if f != opConflictInit && f != opConflictInsert && f != opConflictUpdate && f != opConflictDelete {
			continue
		}
		if op.outcome == history.Fail {
			continue
		}
		if f == opConflictInit {
			var v struct {
				Keys int `json:"keys"`
			}
			if err := json.Unmarshal(op.value, &v); err != nil {
				return nil, nil, fmt.Errorf("conflict-init op %d: %v", op.invoke.Index, err)
			}
			for k := range v.Keys {
				out = append(out, &lwwWrite{F: f, Node: op.invoke.Node, Process: conflictSetup, key: k, init: true, Outcome: string(op.outcome)})
			}
			continue
		}
		var v struct {
			Key      *int       `json:"key"`
			Value    *int64     `json:"value"`
			CommitTS *time.Time `json:"commit_ts"`
		}
		if err := json.Unmarshal(op.value, &v); err != nil || v.Key == nil {
			return nil, nil, fmt.Errorf("op %d (%s by %s): no \"key\" in its value", op.invoke.Index, f, op.invoke.Process)
		}
		w := &lwwWrite{F: f, Node: op.invoke.Node, Process: op.invoke.Process, Value: v.Value, CommitTS: v.CommitTS,
			Start: op.invoke.Wall, End: op.end, Outcome: string(op.outcome), key: *v.Key,
			isDelete: f == opConflictDelete, viaFailure: !in.isSurvivor(op.invoke.Node)}
		if w.isDelete {
			w.Value = nil
		}
		out = append(out, w)
		keys[*v.Key] = true
	}
	return out, keys, nil
}

// tiebreakers is the Spock tiebreakers one survivor observed (nil: none).
func (in historyInput) tiebreakers() map[string]int64 {
	for _, n := range in.survivors {
		if tb := in.obs.PerNode[n].Tiebreakers; len(tb) > 0 {
			return tb
		}
	}
	return nil
}

// lostWithFailed counts w, acknowledged by a node that did not survive
// and found on no survivor, once.
func (d *lwwDetails) lostWithFailed(k int, w *lwwWrite) {
	if w.lost {
		return
	}
	w.lost = true
	d.LostWithFailed++
	d.LostWithFailedL = listed(d.LostWithFailedL, fmt.Sprintf("key %d: %s", k, w))
}
