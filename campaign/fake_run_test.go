package campaign_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// fakeRunner stands in for scenarios.Run in the unit specs: it makes a
// run directory and returns the verdict verdictOf gives, without Docker.
type fakeRunner struct {
	mu        sync.Mutex
	calls     []string // "<scenario> s<seed> <flavor>"
	verdictOf func(spec *scenarios.Spec, opts scenarios.Options, call int) verify.Verdict
	// cancelAt cancels cancel during the call with this number (1-based),
	// as Ctrl-C would, and the run then returns interrupted.
	cancelAt int
	cancel   context.CancelFunc
	// refuse, when it returns an error, is what the run returns before
	// anything starts (a capability refusal).
	refuse func(spec *scenarios.Spec) error
}

func (f *fakeRunner) run(ctx context.Context, spec *scenarios.Spec, opts scenarios.Options) (*scenarios.Outcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fmt.Sprintf("%s s%d %s", spec.Name, opts.Seed, opts.Flavor))
	n := len(f.calls)
	f.mu.Unlock()
	if f.refuse != nil {
		if err := f.refuse(spec); err != nil {
			return nil, err
		}
	}
	dir, err := record.NewRunDir(opts.OutDir, spec.Name, opts.Seed, time.Now().Add(time.Duration(n)*time.Second))
	if err != nil {
		return nil, err
	}
	plan := scenarios.NewPlan(spec, opts.Seed, spec.Nodes, spec.Load)
	if n == f.cancelAt {
		f.cancel()
		return &scenarios.Outcome{Verdict: verify.Unknown, Dir: dir, Plan: plan, Run: &record.Run{Scenario: spec.Name}},
			fmt.Errorf("interrupted: %w", ctx.Err())
	}
	v := verify.Pass
	if f.verdictOf != nil {
		v = f.verdictOf(spec, opts, n)
	}
	run := &record.Run{Scenario: spec.Name, Seed: opts.Seed, Flavor: opts.Flavor, Verdict: v,
		Replay:   scenarios.ReplayCommand(spec, opts),
		Checkers: []verify.CheckResult{{Name: "convergence", Verdict: v}}}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte("<html></html>"), 0o644); err != nil {
		return nil, err
	}
	return &scenarios.Outcome{Verdict: v, Dir: dir, Plan: plan, Run: run}, nil
}

func (f *fakeRunner) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}
