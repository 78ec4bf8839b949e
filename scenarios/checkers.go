package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// checker is one entry of the checker registry: how a checker a spec
// names (Spec.Checkers) runs, and on what it can run.
type checker struct {
	// live runs it at the end of a run (T6) on the survivors (targets),
	// with what the runner knows.
	live func(r *run, ctx context.Context, targets []verify.Target) []verify.CheckResult
	// stored re-runs it on a stored run directory with no cluster
	// (`spockchaos check DIR`, reports.RecheckDir); nil for a checker that
	// needs the live servers or the runner's own state.
	stored func(ops []history.Op, obs *verify.Observation, survivors, failed []string) []verify.CheckResult
}

// checkers is the registry: a new checker is one entry here and its
// function(s).
var checkers = map[string]checker{
	CheckConvergence: {live: (*run).convergenceCheck},
	CheckHistory:     {live: (*run).historyChecks, stored: storedHistoryChecks},
	CheckRecovered: {live: func(r *run, _ context.Context, _ []verify.Target) []verify.CheckResult {
		return []verify.CheckResult{r.recoveredCheck()}
	}},
	CheckRejoined: {live: func(r *run, ctx context.Context, _ []verify.Target) []verify.CheckResult {
		return []verify.CheckResult{r.rejoinedCheck(ctx)}
	}},
}

// knownChecker reports whether name is in the registry.
func knownChecker(name string) bool {
	_, ok := checkers[name]
	return ok
}

// RecheckStored re-runs, on a stored run, every checker of the registry
// that can run without a cluster (in name order): the history checkers on
// the stored history and final state (observation.json, raw), with the
// run's survivors and failed nodes. It is the reports.HistoryChecker of
// `spockchaos check DIR`.
func RecheckStored(ops []history.Op, observation json.RawMessage, survivors, failed []string) ([]verify.CheckResult, error) {
	var obs verify.Observation
	if err := record.DecodeArtifact(record.ObservationFile, observation, &obs); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(checkers))
	for name, c := range checkers {
		if c.stored != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out []verify.CheckResult
	for _, name := range names {
		out = append(out, checkers[name].stored(ops, &obs, survivors, failed)...)
	}
	return out, nil
}

// storedHistoryChecks runs the history checkers on a history and a final
// state.
func storedHistoryChecks(ops []history.Op, obs *verify.Observation, survivors, failed []string) []verify.CheckResult {
	return verify.CheckHistory(ops, obs, verify.HistoryOptions{Survivors: survivors, Failed: failed})
}

// convergenceCheck compares the survivors' rows (unknown with fewer than
// two survivors: nothing to compare).
func (r *run) convergenceCheck(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	if len(targets) < 2 {
		return []verify.CheckResult{{Name: CheckConvergence, Verdict: verify.Unknown,
			Summary: fmt.Sprintf("only %d survivor(s): nothing to compare", len(targets))}}
	}
	return []verify.CheckResult{verify.CheckConvergence(ctx, targets, verify.ConvergenceOptions{SharedHost: true})}
}

// runCheckers runs the spec's checkers by the registry, in the spec's
// order. A recovery whose system failed is judged in every scenario, not
// only in those that list the recovered checker.
func (r *run) runCheckers(ctx context.Context, targets []verify.Target) error {
	for _, name := range r.spec.Checkers {
		c, ok := checkers[name]
		if !ok {
			return fmt.Errorf("unknown checker %q", name)
		}
		r.report.AddCheckers(c.live(r, ctx, targets)...)
	}
	if res := r.recovered; !slices.Contains(r.spec.Checkers, CheckRecovered) && res != nil && len(res.Findings) > 0 {
		r.report.AddCheckers(r.recoveredCheck())
	}
	return nil
}
