package reports

import (
	"strconv"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
)

// Results is results.json: the fields of DESIGN.md section 7 plus what a
// reader needs to replay the run.
type Results struct {
	Scenario  string         `json:"scenario"`
	Seed      int64          `json:"seed"`
	Flavor    string         `json:"flavor,omitempty"`
	Verdict   record.Verdict `json:"verdict"`
	Error     string         `json:"error,omitempty"`
	Replay    string         `json:"replay"`
	Survivors []string       `json:"survivors,omitempty"`
	Failed    []string       `json:"failed,omitempty"`
	// Divergence is the convergence check's classes of differing rows,
	// largest first: the summary of the rows listed in its details.
	Divergence []verify.DivergenceClass `json:"divergence,omitempty"`
	// Evidence is, per class and node searched, what the server said
	// about the class's rows (run.json's evidence).
	Evidence []record.ClassEvidence `json:"evidence,omitempty"`
	Checkers []record.CheckResult   `json:"checkers"`
	Recovery *record.Recovery       `json:"recovery"`
	Faults   []record.Fault         `json:"faults"`
	Phases   []record.Phase         `json:"phases"`
	// RecoveryTimes are, per failed node, the times from its kill to every
	// survivor being level for it.
	RecoveryTimes []record.RecoveryTime `json:"recovery_times,omitempty"`
}

// ResultsOf is the results.json content of run.
func ResultsOf(run *record.Run) Results {
	return Results{
		Scenario:   run.Scenario,
		Seed:       run.Seed,
		Flavor:     run.Flavor,
		Verdict:    run.EffectiveVerdict(),
		Error:      run.Error,
		Replay:     record.ReplayCommand(run),
		Survivors:  run.Survivors,
		Failed:     run.Failed,
		Divergence: DivergenceOf(run.Checkers),
		Evidence:   run.Evidence,
		Checkers:   nonNil(run.Checkers),
		Recovery:   run.Recovery,
		Faults:     nonNil(run.Faults),
		Phases:     nonNil(run.Phases),

		RecoveryTimes: run.RecoveryTimes,
	}
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
