package repro

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// RunFunc runs one scenario; scenarios.Run in production.
type RunFunc func(ctx context.Context, spec *scenarios.Spec, opts scenarios.Options) (*scenarios.Outcome, error)

// Options are how the reproduction runs.
type Options struct {
	OutDir   string // parent of the new run directory (default "runs")
	Keep     bool   // leave the cluster up when the verdict is not pass
	Progress io.Writer
	Live     bool
	Logger   *slog.Logger
	// Warn receives the warnings as they arise (default: Progress).
	Warn io.Writer
	Run  RunFunc
}

// Result compares the reproduction with the stored run.
type Result struct {
	Original *Recorded
	Outcome  *scenarios.Outcome
	// StoredPlan is set when the stored steps were replayed because the
	// seed no longer gives them.
	StoredPlan               bool
	SamePlan, SameVerdict    bool
	SameFailures, Reproduced bool
	Warnings                 []string
}

// Run re-runs the run stored in dir (see the package doc) and compares.
// The error is a harness error of the reproduction (the Result is then
// still returned when a run directory was made).
func Run(ctx context.Context, dir string, opts Options) (*Result, error) {
	rec, err := Load(dir)
	if err != nil {
		return nil, err
	}
	spec, stored, err := rec.Spec()
	if err != nil {
		return nil, err
	}
	// Refuse what the run could not start with before warning about
	// anything: bad input is one line.
	if _, err := scenarios.Resolve(spec, rec.Options()); err != nil {
		return nil, fmt.Errorf("repro %s: %s: %w", dir, record.RunFile, err)
	}
	if opts.Run == nil {
		opts.Run = scenarios.Run
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Warn == nil {
		opts.Warn = opts.Progress
	}
	res := &Result{Original: rec, StoredPlan: stored}
	warn := func(format string, a ...any) {
		w := fmt.Sprintf(format, a...)
		res.Warnings = append(res.Warnings, w)
		fmt.Fprintln(opts.Warn, "warning:", w)
	}
	if v := record.SpockchaosVersion(); rec.Version != "" && rec.Version != v {
		warn("the run was made by spockchaos %s, this is %s: a difference may come from the harness", rec.Version, v)
	}
	if stored {
		warn("scenario %s with seed %d gives another plan today (the catalog changed, or a shrunk run): replaying the stored plan", rec.Scenario, rec.Seed)
	}
	ro := rec.Options()
	ro.OutDir, ro.Keep, ro.Progress, ro.Live, ro.Logger = opts.OutDir, opts.Keep, opts.Progress, opts.Live, opts.Logger
	out, runErr := opts.Run(ctx, spec, ro)
	res.Outcome = out
	if out == nil {
		return res, runErr
	}
	res.SamePlan = SameSteps(out.Plan.Steps, rec.Steps)
	res.SameVerdict = out.Verdict == rec.Verdict
	var failed []string
	if out.Run != nil {
		failed = failedCheckers(out.Run.Checkers)
		if rec.ImageID != "" && out.Run.ImageID != "" && out.Run.ImageID != rec.ImageID {
			warn("the nodes ran image %s, the stored run %s", out.Run.ImageID, rec.ImageID)
		}
	}
	res.SameFailures = slices.Equal(failed, rec.Failed)
	res.Reproduced = res.SamePlan && res.SameVerdict && res.SameFailures && out.Verdict != verify.Unknown
	return res, runErr
}
