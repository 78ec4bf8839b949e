package campaign

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/spockchaos/spockchaos/capability"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// Cell states in campaign.json.
const (
	StateDone    = "done"    // the cell ran to its end (any verdict); a resumed campaign skips it
	StatePending = "pending" // not run yet, or interrupted: a resumed campaign runs it
)

// CellResult is one cell in campaign.json, and the content of the cell's
// own cells/<id>/cell.json once it is done.
type CellResult struct {
	Cell
	ID    string `json:"id"`
	State string `json:"state"`
	// Expect is the verdict the scenario expects; Met says the cell
	// reached it.
	Expect  verify.Verdict `json:"expect"`
	Verdict verify.Verdict `json:"verdict,omitempty"`
	Met     bool           `json:"met"`
	// Explained is, for a FAIL the scenario did not expect, what the
	// known findings of the target's flavor matched (scenarios.Explain):
	// set only when they explain every failing checker.
	Explained string `json:"explained,omitempty"`
	// Failed are the checkers whose verdict was not pass.
	Failed []string `json:"failed_checkers,omitempty"`
	// Error is the harness error that stopped the run, if any.
	Error string `json:"error,omitempty"`
	// Started and DurationSeconds time the run as the campaign saw it
	// (what a `spockchaos run` of the cell takes).
	Started         time.Time `json:"started,omitzero"`
	DurationSeconds float64   `json:"duration_s,omitempty"`
	// RunDir is the run directory, relative to the campaign directory.
	RunDir string `json:"run_dir,omitempty"`
	// Replay is the one-line command that reproduces the cell.
	Replay string `json:"replay,omitempty"`
	// Plan is the fault plan the seed gave (the printed form).
	Plan     string          `json:"plan,omitempty"`
	Recovery *RecoveryCounts `json:"recovery,omitempty"`
	// Shard is the shard that ran the cell, Host the machine.
	Shard string `json:"shard,omitempty"`
	Host  string `json:"host,omitempty"`
}

// RecoveryCounts are what the cell's recovery moved.
type RecoveryCounts struct {
	Strategy         string `json:"strategy"`
	Transactions     int64  `json:"transactions_recovered"`
	Rows             int64  `json:"rows_recovered"`
	NothingToRecover bool   `json:"nothing_to_recover"`
	// Seconds are the kill-to-level times of the failed nodes whose
	// survivors became level (record.RecoveryTime.Seconds); NeverLevel
	// counts the others.
	Seconds    []float64 `json:"recovery_seconds,omitempty"`
	NeverLevel int       `json:"never_level,omitempty"`
}

// Done reports whether the cell ran to its end.
func (r CellResult) Done() bool { return r.State == StateDone }

// pendingResult is a cell that has not run.
func pendingResult(c Cell) CellResult {
	r := CellResult{Cell: c, ID: c.ID(), State: StatePending}
	if spec, err := scenarios.Lookup(c.Scenario); err == nil {
		r.Expect = spec.ExpectFor(c.Target.Flavor)
	}
	return r
}

// resultOf is the result of cell c from the run's outcome (nil when the
// run could not even create its directory) and error; campaignDir makes
// RunDir relative.
func resultOf(c Cell, spec *scenarios.Spec, out *scenarios.Outcome, runErr error, started time.Time, took time.Duration, campaignDir string) CellResult {
	r := pendingResult(c)
	r.State, r.Expect = StateDone, spec.ExpectFor(c.Target.Flavor)
	r.Started, r.DurationSeconds = started.UTC(), took.Seconds()
	r.Verdict = verify.Unknown
	if runErr != nil {
		r.Error = runErr.Error()
	}
	var refused *capability.Refused
	if errors.As(runErr, &refused) {
		// Refused before anything started: the image cannot run the
		// cell's plan. Skipped, never met, never a harness error.
		r.Verdict = verify.Skipped
		return r
	}
	if out != nil {
		r.Verdict = out.Verdict
		r.Plan = out.Plan.String()
		if rel, err := filepath.Rel(campaignDir, out.Dir); err == nil {
			r.RunDir = filepath.ToSlash(rel)
		}
		if out.Run != nil {
			fillFromRun(&r, out.Run)
		}
	}
	if runErr != nil && r.Verdict == verify.Pass {
		r.Verdict = verify.Unknown
	}
	r.Met = r.Verdict == r.Expect
	if !r.Met && r.Verdict == verify.Fail && out != nil && out.Run != nil {
		r.Explained = explainFail(spec, c.Target.Flavor, out.Dir, out.Run.Checkers)
	}
	return r
}

// explainFail is what the scenario's known findings on flavor matched of
// the failed run stored in runDir, "" when they do not explain every
// failing checker, or a checker could not judge (scenarios.Explain).
func explainFail(spec *scenarios.Spec, flavor, runDir string, checkers []record.CheckResult) string {
	fs := spec.FindingsFor(flavor)
	if len(fs) == 0 {
		return ""
	}
	if ok, why := scenarios.Explain(fs, runDir, checkers); ok {
		return why
	}
	return ""
}

// rejudged is a done cell of the campaign in dir with Explained worked
// out again by this build's known findings from the cell's stored run:
// a report or merge made after a finding landed (or its evidence rule
// changed) counts the FAILs it explains now, and no longer counts one
// whose evidence stopped matching. A cell that is not an unmet FAIL, or
// whose run or scenario this build cannot read, keeps its stored
// judgement.
func rejudged(dir string, r CellResult) CellResult {
	if r.Met || r.Verdict != verify.Fail || r.RunDir == "" {
		return r
	}
	runDir := filepath.Join(dir, filepath.FromSlash(r.RunDir))
	run, err := record.Load(runDir)
	if err != nil {
		return r
	}
	spec, err := scenarios.Lookup(r.Scenario)
	if err != nil {
		return r
	}
	r.Explained = explainFail(spec, r.Target.Flavor, runDir, run.Checkers)
	return r
}

// fillFromRun takes replay, failing checkers, recovery counts and the
// harness error from a stored run.
func fillFromRun(r *CellResult, run *record.Run) {
	r.Replay = record.ReplayCommand(run)
	if r.Error == "" {
		r.Error = run.Error
	}
	for _, ch := range run.Checkers {
		if ch.Problem() {
			r.Failed = append(r.Failed, ch.Name)
		}
	}
	if rec := run.Recovery; rec != nil {
		r.Recovery = &RecoveryCounts{Strategy: rec.Strategy, Transactions: rec.TransactionsRecovered,
			Rows: rec.RowsRecovered, NothingToRecover: rec.NothingToRecover}
		for _, t := range run.RecoveryTimes {
			if t.Level.IsZero() {
				r.Recovery.NeverLevel++
			} else {
				r.Recovery.Seconds = append(r.Recovery.Seconds, t.Seconds)
			}
		}
	}
}
