package reports

import (
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/verify"
)

// Results is results.json: the fields of DESIGN.md section 7 plus what a
// reader needs to replay the run.
type Results struct {
	Scenario  string         `json:"scenario"`
	Seed      int64          `json:"seed"`
	Flavor    string         `json:"flavor,omitempty"`
	Verdict   verify.Verdict `json:"verdict"`
	Error     string         `json:"error,omitempty"`
	Replay    string         `json:"replay"`
	Survivors []string       `json:"survivors,omitempty"`
	Failed    []string       `json:"failed,omitempty"`
	// Divergence is the convergence check's classes of differing rows,
	// largest first: the summary of the rows listed in its details.
	Divergence []verify.DivergenceClass `json:"divergence,omitempty"`
	Checkers   []verify.CheckResult     `json:"checkers"`
	Recovery   *recovery.Result         `json:"recovery"`
	Faults     []Fault                  `json:"faults"`
	Phases     []Phase                  `json:"phases"`
}

// ResultsOf is the results.json content of run.
func ResultsOf(run *Run) Results {
	return Results{
		Scenario:   run.Scenario,
		Seed:       run.Seed,
		Flavor:     run.Flavor,
		Verdict:    run.EffectiveVerdict(),
		Error:      run.Error,
		Replay:     ReplayCommand(run),
		Survivors:  run.Survivors,
		Failed:     run.Failed,
		Divergence: DivergenceOf(run.Checkers),
		Checkers:   nonNil(run.Checkers),
		Recovery:   run.Recovery,
		Faults:     nonNil(run.Faults),
		Phases:     nonNil(run.Phases),
	}
}

// ReplayCommand is the command line that replays run's plan: the one the
// runner recorded, or (for run directories made before it did) the
// scenario, seed and flavor.
func ReplayCommand(run *Run) string {
	if run.Replay != "" {
		return run.Replay
	}
	cmd := "spockchaos run " + run.Scenario + " --seed " + itoa(run.Seed)
	if run.Flavor != "" && run.Flavor != "pglogical" {
		cmd += " --flavor " + run.Flavor
	}
	return cmd
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
