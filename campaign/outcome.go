package campaign

import "github.com/spockchaos/spockchaos/verify"

// Outcome is how a cell did against its scenario's expectation.
type Outcome string

// Outcomes of a cell (CellResult.Outcome).
const (
	OutcomeAsExpected = Outcome("as expected") // the verdict is the expected one
	// OutcomeExplained is a FAIL where the scenario expected another
	// verdict, every failing checker attributed to a named known finding of
	// the target's flavor with the server's own evidence
	// (scenarios.Explain; CellResult.Explained says what matched).
	OutcomeExplained  = Outcome("explained")
	OutcomeUnexpected = Outcome("unexpected") // pass or fail other than expected, not explained
	OutcomeUnknown    = Outcome("unknown")    // a harness error: no verdict
	OutcomeSkipped    = Outcome("skipped")    // refused at start (capability)
	OutcomePending    = Outcome("pending")    // not run yet
)

// Outcome of r, from its state, verdict, expectation and explanation.
// Explained needs a FAIL: a pass or unknown is never a finding's.
func (r CellResult) Outcome() Outcome {
	switch {
	case !r.Done():
		return OutcomePending
	case r.Verdict == verify.Skipped:
		return OutcomeSkipped
	case r.Met:
		return OutcomeAsExpected
	case r.Verdict == verify.Fail && r.Explained != "":
		return OutcomeExplained
	case r.Verdict == verify.Pass || r.Verdict == verify.Fail:
		return OutcomeUnexpected
	}
	return OutcomeUnknown
}
