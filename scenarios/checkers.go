package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// replication-health (replication_health.go; the decision is
// verify.JudgeReplicationHealth) is live only: it samples the survivors'
// subscription statuses (waiting at most replHealthWait for reconnecting
// ones), takes the fault windows that disabled subscriptions on purpose
// from the history, and reads the subscribers' server logs (and Spock's
// exception_log) for the reason of a failure.
// exception-audit (exception_audit.go; the decision and its rule are
// verify.JudgeExceptionAudit) reads spock.exception_log, and
// spock.resolutions where spock.save_resolutions is on, on the survivors
// and judges every row against the tables the history's workload writes
// from several nodes (verify.ContendedTables); its capture goes into the
// observation (observation.json), so `spockchaos check DIR` re-judges it.
// On pglogical it is skipped ("not applicable"), never a pass.
// At the report phase, once the server logs are collected, every
// divergence class gets its server evidence (evidence.go,
// verify.FindEvidence) in run.json's "evidence", from the logs and the
// exception_log rows exception-audit read.

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
	// replication-health is live only: its status samples and the
	// servers' logs are not stored with a run.
	CheckReplicationHealth: {live: (*run).replicationHealthCheck},
	// exception-audit re-judges on a stored run: its capture is stored
	// with the observation.
	CheckExceptionAudit: {live: (*run).exceptionAuditCheck, stored: storedExceptionAudit},
	// double-apply re-judges on a stored run: its capture (duplicates and
	// counts, not every commit) is stored with the observation.
	CheckDoubleApply: {live: (*run).doubleApplyCheck, stored: storedDoubleApply},
	CheckSchemaDiff:  {live: (*run).schemaDiffCheck},
	CheckDDL:         {live: (*run).ddlCheck},
	CheckRejoined: {live: func(r *run, ctx context.Context, _ []verify.Target) []verify.CheckResult {
		return []verify.CheckResult{r.rejoinedCheck(ctx)}
	}},
	CheckMembership: {live: func(r *run, ctx context.Context, _ []verify.Target) []verify.CheckResult {
		return []verify.CheckResult{r.membershipCheck(ctx)}
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

// verify (T6) runs the scenario's checkers on the survivors.
func (r *run) verify(ctx context.Context) error {
	targets := make([]verify.Target, 0, len(r.alive))
	for _, n := range r.nodes(r.alive) {
		targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
	}
	err := r.runCheckers(ctx, targets)
	if obs, ok := r.report.Observation.(*verify.Observation); ok && obs != nil && r.exceptions != nil {
		obs.Exceptions = r.exceptions
	}
	if obs, ok := r.report.Observation.(*verify.Observation); ok && obs != nil && r.wal != nil {
		obs.WAL = r.wal
	}
	return err
}

func (r *run) historyChecks(ctx context.Context, targets []verify.Target) []verify.CheckResult {
	unknown := func(err error) []verify.CheckResult {
		return []verify.CheckResult{{Name: CheckHistory, Verdict: verify.Unknown, Summary: err.Error()}}
	}
	if err := r.rec.Flush(); err != nil {
		return unknown(err)
	}
	obs, err := verify.Observe(ctx, targets)
	if err != nil {
		return unknown(fmt.Errorf("observe the survivors' final state: %w", err))
	}
	r.report.Observation = obs
	ops, err := history.Load(r.histPath())
	if err != nil {
		return unknown(fmt.Errorf("load history: %w", err))
	}
	return storedHistoryChecks(ops, obs, r.alive, r.failed)
}

// recoveredCheck judges the recovery by what it did: it fails when the
// system under test's own recovery left findings (a Spock call that erred
// or hung, survivors still holding different parts of the failed node),
// saying what each call returned and what it moved (the calls and the
// measured effect in full are in the run's recovery result), and it fails a
// recovery scenario whose recovery moved nothing: its lag was meant to
// leave work, so a zero is a vacuous test.
func (r *run) recoveredCheck() verify.CheckResult {
	res := r.recovered
	c := verify.CheckResult{Name: CheckRecovered}
	switch {
	case res == nil:
		c.Verdict, c.Summary = verify.Fail, "no recovery ran"
	case len(res.Findings) > 0:
		c.Verdict = verify.Fail
		c.Summary = fmt.Sprintf("%s recovery failed: %s%s; moved %d transactions (%d rows)",
			res.Strategy, strings.Join(res.Findings, "; "), callsLine(res.Calls), res.TransactionsRecovered, res.RowsRecovered)
	case res.TransactionsRecovered > 0:
		c.Verdict, c.Summary = verify.Pass, fmt.Sprintf("%s recovery moved %d transactions (%d rows)%s", res.Strategy, res.TransactionsRecovered, res.RowsRecovered, callsLine(res.Calls))
	default:
		c.Verdict, c.Summary = verify.Fail, fmt.Sprintf("%s recovery moved no transaction (nothing_to_recover=%v)%s: the scenario's lag should have left work", res.Strategy, res.NothingToRecover, callsLine(res.Calls))
	}
	return c
}

// callsLine says what each recovery function of the system returned, one
// clause per function and node ("" when none was called).
func callsLine(calls []recovery.Call) string {
	if len(calls) == 0 {
		return ""
	}
	parts := make([]string, 0, len(calls))
	for _, c := range calls {
		got := c.Returned
		if c.Error != "" {
			got = "error: " + c.Error
		} else if got == "" {
			got = "nothing"
		}
		parts = append(parts, fmt.Sprintf("%s on %s returned %s in %s", c.Function, c.Node, got, c.Duration.Round(time.Millisecond)))
	}
	return "; calls: " + strings.Join(parts, ", ")
}
