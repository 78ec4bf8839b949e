package record

// Verdict is a checker's result. A checker that errors or panics yields
// Unknown, never Pass; a checker that has nothing to judge in a run is
// Skipped, which is never counted as a pass. A run passes only if no
// checker fails or is unknown and at least one passes.
type Verdict string

// Verdicts.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown"
	// Skipped: the checker does not apply to this run (e.g. no op of
	// the kind it judges); its summary says why.
	Skipped Verdict = "skipped"
)

// CheckResult is one checker's outcome, as stored in results.json.
type CheckResult struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	Summary string  `json:"summary"`
	// Details is checker-specific JSON (e.g. differing rows).
	Details any `json:"details,omitempty"`
}

// Problem reports whether the checker failed or could not judge: neither
// passed nor was skipped. Lists of "failing checkers" use it.
func (r CheckResult) Problem() bool { return r.Verdict != Pass && r.Verdict != Skipped }

// Combine is the verdict of a run from its checkers: Fail if any fails,
// else Unknown if any is unknown, else Pass if at least one passed; a run
// with no checker, or whose every checker was skipped, is Unknown: nothing
// was judged.
func Combine(results []CheckResult) Verdict {
	v, passed := Pass, false
	for _, r := range results {
		switch r.Verdict {
		case Fail:
			return Fail
		case Pass:
			passed = true
		case Skipped:
		default:
			v = Unknown
		}
	}
	if !passed {
		return Unknown
	}
	return v
}
