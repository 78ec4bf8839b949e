package verify

import (
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Names of the history checkers.
const (
	DurabilityCheckName    = "durability"
	AtomicityCheckName     = "atomicity"
	IndeterminateCheckName = "indeterminate"
	BankCheckName          = "bank-invariant"
	HotkeyCheckName        = "hotkey-convergence"
)

// HistoryOptions say which nodes survived the run. Survivors default to
// every observed node; a node that is neither is treated as failed.
type HistoryOptions struct {
	Survivors []string `json:"survivors"`
	Failed    []string `json:"failed"`
}

// maxListed caps the txn ids listed per category in Details.
const maxListed = 50

// historyInput is what every history checker reads.
type historyInput struct {
	ops       []clientOp
	obs       *Observation
	survivors []string
	failed    []string
}

// CheckHistory runs every history checker on ops and the final state obs.
// It is pure: it reads only its arguments, so stored artifacts can be
// re-checked without a cluster. Each checker returns Pass, Fail, Unknown
// or Skipped; one that errors or panics is Unknown. A checker with nothing
// to check is Skipped with a summary that says so ("not applicable: ...").
func CheckHistory(ops []history.Op, obs *Observation, opts HistoryOptions) []CheckResult {
	checkers := []struct {
		name string
		fn   func(historyInput) CheckResult
	}{
		{DurabilityCheckName, checkDurability},
		{AtomicityCheckName, checkAtomicity},
		{IndeterminateCheckName, checkIndeterminate},
		{BankCheckName, checkBank},
		{HotkeyCheckName, checkHotkey},
		{LWWCheckName, checkLWW},
		{UniqueCheckName, checkUnique},
		{DeltaCheckName, checkDelta},
		{GeneratedCheckName, checkGenerated},
		{PartitionedCheckName, checkPartitioned},
		{ForeignKeyCheckName, checkForeignKey},
		{TruncateCheckName, checkTruncate},
		{SequenceCheckName, checkSequence},
	}
	in, inErr := newHistoryInput(ops, obs, opts)
	out := make([]CheckResult, 0, len(checkers))
	for _, c := range checkers {
		if inErr != nil {
			out = append(out, CheckResult{Name: c.name, Verdict: Unknown, Summary: inErr.Error()})
			continue
		}
		out = append(out, runChecker(c.name, in, c.fn))
	}
	return out
}

func newHistoryInput(ops []history.Op, obs *Observation, opts HistoryOptions) (historyInput, error) {
	if obs == nil {
		return historyInput{}, fmt.Errorf("no observation of the final state")
	}
	in := historyInput{ops: pairOps(ops), obs: obs, survivors: opts.Survivors, failed: opts.Failed}
	if len(in.survivors) == 0 {
		in.survivors = slices.DeleteFunc(slices.Clone(obs.Nodes), func(n string) bool { return slices.Contains(opts.Failed, n) })
	}
	if len(in.survivors) == 0 {
		return historyInput{}, fmt.Errorf("no survivor to check")
	}
	for _, n := range in.survivors {
		if obs.PerNode[n] == nil {
			return historyInput{}, fmt.Errorf("survivor %s was not observed", n)
		}
	}
	return in, nil
}

// runChecker turns a panic into Unknown and names the result.
func runChecker(name string, in historyInput, fn func(historyInput) CheckResult) (r CheckResult) {
	defer func() {
		if p := recover(); p != nil {
			r = CheckResult{Name: name, Verdict: Unknown, Summary: fmt.Sprintf("checker panicked: %v", p),
				Details: map[string]string{"stack": string(debug.Stack())}}
		}
	}()
	r = fn(in)
	r.Name = name
	if r.Verdict == "" {
		r.Verdict = Unknown
	}
	return r
}

// notApplicable is the result of a checker with nothing to judge: skipped,
// never a pass.
func notApplicable(what string) CheckResult {
	return CheckResult{Verdict: Skipped, Summary: "not applicable: no " + what + " ops"}
}

func unknownf(format string, args ...any) CheckResult {
	return CheckResult{Verdict: Unknown, Summary: fmt.Sprintf(format, args...)}
}

// isSurvivor reports whether the client of an op talked to a survivor.
func (in historyInput) isSurvivor(node string) bool { return slices.Contains(in.survivors, node) }

// missingLedger names a survivor without a ledger table, if any.
func (in historyInput) missingLedger() string {
	for _, n := range in.survivors {
		if in.obs.PerNode[n].Ledger == nil {
			return n
		}
	}
	return ""
}

// listed appends id to list up to maxListed entries.
func listed(list []string, id string) []string {
	if len(list) < maxListed {
		return append(list, id)
	}
	return list
}
