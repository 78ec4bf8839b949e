package verify

import "github.com/spockchaos/spockchaos/record"

// Verdict is a checker's result (record.Verdict: the run record owns the
// shape stored in run.json; see there for what each verdict means).
type Verdict = record.Verdict

// Verdicts.
const (
	Pass    = record.Pass
	Fail    = record.Fail
	Unknown = record.Unknown
	Skipped = record.Skipped
)

// CheckResult is one checker's outcome, as stored in results.json
// (record.CheckResult).
type CheckResult = record.CheckResult

// Combine is the verdict of a run from its checkers (record.Combine).
func Combine(results []CheckResult) Verdict { return record.Combine(results) }
