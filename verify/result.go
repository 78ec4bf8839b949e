package verify

// Verdict is a checker's result. A checker that errors or panics yields
// Unknown, never Pass; a run passes only if every checker passes.
type Verdict string

// Verdicts.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown"
)

// CheckResult is one checker's outcome, as stored in results.json.
type CheckResult struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	Summary string  `json:"summary"`
	// Details is checker-specific JSON (e.g. differing rows).
	Details any `json:"details,omitempty"`
}

// Combine is the verdict of a run from its checkers: Fail if any fails,
// else Unknown if any is unknown (or there are none), else Pass.
func Combine(results []CheckResult) Verdict {
	if len(results) == 0 {
		return Unknown
	}
	v := Pass
	for _, r := range results {
		switch r.Verdict {
		case Fail:
			return Fail
		case Pass:
		default:
			v = Unknown
		}
	}
	return v
}
