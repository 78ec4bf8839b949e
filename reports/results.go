package reports

import (
	"time"

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
	// RecoveryTimes are, per failed node, the times from its kill to every
	// survivor being level for it.
	RecoveryTimes []RecoveryTime `json:"recovery_times,omitempty"`
}

// RecoveryTime is the recovery time of one failed node: from its kill to
// every survivor being level for it (the recovery strategy returned
// without error and without findings; the reference strategy checks that
// every survivor's progress for the node is equal), split into detect
// (kill to the kill confirmed) and recover (the rest).
type RecoveryTime struct {
	Node     string    `json:"node"`
	Killed   time.Time `json:"killed"`
	Detected time.Time `json:"detected"`
	// Level is when the survivors were level; zero when they never were
	// in this run (Error says why).
	Level time.Time `json:"level,omitzero"`
	// Seconds is Level - Killed (0 when not level).
	Seconds        float64 `json:"seconds"`
	DetectSeconds  float64 `json:"detect_seconds"`
	RecoverSeconds float64 `json:"recover_seconds"`
	// DecodeSeconds and ApplySeconds are the recovery's decode (streaming
	// the source's recovery slot) and apply parts, summed over its pairs.
	DecodeSeconds float64 `json:"decode_seconds,omitempty"`
	ApplySeconds  float64 `json:"apply_seconds,omitempty"`
	Transactions  int64   `json:"transactions"`
	Error         string  `json:"error,omitempty"`
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

		RecoveryTimes: run.RecoveryTimes,
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
