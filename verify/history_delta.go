package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spockchaos/spockchaos/workload/history"
)

// For the delta-counter workload: with delta apply on (the delta-init op
// says so), every survivor's counter must lie between the sum of the
// increments acknowledged by survivors and that plus every increment
// whose outcome is unknown or whose node failed; below is a lost
// increment (last-update-wins kept one write over another), above one
// applied twice. A violation names key, node, value and sum, and the
// acknowledged increments of exactly the missing amount. Without delta
// apply the checker is skipped with the init op's reason (e.g. "not
// applicable: pglogical has no delta apply"); without an init op it is
// unknown.

// DeltaCheckName is the delta-counter checker's name.
const DeltaCheckName = "delta-counter"

// Op names of the delta-counter workload (workload.FDeltaInit, ...).
const (
	opDeltaInit = "delta-init"
	opDeltaAdd  = "delta-add"
)

// deltaInit is the Value of delta-init.
type deltaInit struct {
	Keys       int    `json:"keys"`
	DeltaApply bool   `json:"delta_apply"`
	Reason     string `json:"reason"`
}

// deltaAdd is one delta-add op: its key, amount, outcome and node.
type deltaAdd struct {
	Key   int   `json:"key"`
	Delta int64 `json:"delta"`
	op    clientOp
}

// deltaSums are one counter's increments: certain (ok on a survivor) and
// possible (info, or ok on a node that did not survive).
type deltaSums struct {
	certain, possible int64
	adds              []deltaAdd
}

// checkDelta judges the delta-counter workload: with Spock's delta apply
// on every node, each survivor's counter must equal the sum of the
// acknowledged increments (plus any subset of the ones whose outcome is
// unknown or whose node failed), which last-update-wins alone would
// break. Without delta apply (pglogical) it is skipped with the reason
// the workload recorded. Each violation names the key, the node, what it
// holds and what it should, and the acknowledged increments whose amount
// equals what is missing (the likely lost ones).
func checkDelta(in historyInput) CheckResult {
	init, sums, n, err := deltaOps(in)
	if err != nil {
		return unknownf("%v", err)
	}
	if n == 0 {
		return notApplicable("delta-add")
	}
	switch {
	case init == nil:
		return unknownf("no acknowledged delta-init op: the counters' start and delta apply are unknown")
	case !init.DeltaApply:
		return CheckResult{Verdict: Skipped, Summary: "not applicable: " + init.Reason}
	}
	var bad []string
	for _, node := range in.survivors {
		rows := in.obs.PerNode[node].Delta
		if rows == nil {
			return CheckResult{Verdict: Fail, Summary: fmt.Sprintf("survivor %s has no delta_counter table", node)}
		}
		held := map[int]int64{}
		for _, r := range rows {
			held[r.K] = r.N
		}
		for k := range init.Keys {
			if line := deltaViolation(k, node, held, sums[k]); line != "" {
				bad = listed(bad, line)
			}
		}
	}
	return deltaVerdict(bad, init.Keys, n, in.survivors)
}

// deltaOps reads the init op and sums the increments per key.
func deltaOps(in historyInput) (*deltaInit, map[int]*deltaSums, int, error) {
	var init *deltaInit
	sums := map[int]*deltaSums{}
	n := 0
	for _, op := range in.ops {
		switch op.invoke.F {
		case opDeltaInit:
			if op.outcome == history.Ok {
				init = &deltaInit{}
				if err := json.Unmarshal(op.value, init); err != nil {
					return nil, nil, 0, fmt.Errorf("delta-init op %d: %v", op.invoke.Index, err)
				}
			}
		case opDeltaAdd:
			n++
			a := deltaAdd{op: op}
			if err := json.Unmarshal(op.invoke.Value, &a); err != nil {
				return nil, nil, 0, fmt.Errorf("op %d (%s by %s): %v", op.invoke.Index, op.invoke.F, op.invoke.Process, err)
			}
			if sums[a.Key] == nil {
				sums[a.Key] = &deltaSums{}
			}
			s := sums[a.Key]
			switch {
			case op.outcome == history.Ok && in.isSurvivor(op.invoke.Node):
				s.certain += a.Delta
				s.adds = append(s.adds, a)
			case op.outcome != history.Fail:
				s.possible += a.Delta
			}
		}
	}
	return init, sums, n, nil
}

// deltaViolation says how counter k on node breaks the sums ("" when it
// does not): below the acknowledged sum (increments lost) or above it
// plus every possible one (an increment applied twice).
func deltaViolation(k int, node string, held map[int]int64, s *deltaSums) string {
	if s == nil {
		s = &deltaSums{}
	}
	v, ok := held[k]
	switch {
	case !ok:
		return fmt.Sprintf("key %d on %s: no row (acknowledged increments sum to %d)", k, node, s.certain)
	case v < s.certain:
		return fmt.Sprintf("key %d on %s: %d, acknowledged increments sum to %d: lost %d%s", k, node, v, s.certain, s.certain-v, likelyLost(s.adds, s.certain-v))
	case v > s.certain+s.possible:
		return fmt.Sprintf("key %d on %s: %d, more than every acknowledged and unknown increment (%d + %d): %d too many", k, node, v, s.certain, s.possible, v-s.certain-s.possible)
	}
	return ""
}

// likelyLost names up to 3 acknowledged increments of exactly the
// missing amount.
func likelyLost(adds []deltaAdd, missing int64) string {
	var names []string
	for _, a := range adds {
		if a.Delta == missing && len(names) < 3 {
			names = append(names, fmt.Sprintf("op %d by %s on %s", a.op.invoke.Index, a.op.invoke.Process, a.op.invoke.Node))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (an increment of %d: %s)", missing, strings.Join(names, ", "))
}

func deltaVerdict(bad []string, keys, ops int, survivors []string) CheckResult {
	on := strings.Join(slices.Clone(survivors), ", ")
	if len(bad) == 0 {
		return CheckResult{Verdict: Pass, Summary: fmt.Sprintf("%d counters on %s hold the sum of their acknowledged increments after %d ops", keys, on, ops)}
	}
	return CheckResult{Verdict: Fail, Details: bad,
		Summary: fmt.Sprintf("%d counters differ from their increments' sum on %s after %d ops: %s", len(bad), on, ops, strings.Join(bad[:min(3, len(bad))], "; "))}
}
