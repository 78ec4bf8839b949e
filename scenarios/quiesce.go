package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// quiesceTimeout bounds replication draining among the survivors.
const quiesceTimeout = 2 * time.Minute

// quiesce (T5) heals the lags whose both ends survived, then waits until
// every subscription among the survivors replicates and a barrier among
// them passes: every survivor has applied every other's writes.
func (r *run) quiesce(ctx context.Context) error {
	for _, l := range r.lags {
		if slices.Contains(r.alive, l.receiver) && slices.Contains(r.alive, l.origin) {
			if err := l.f.HealAndConfirm(ctx); err != nil {
				return err
			}
			r.endFault(l.receiver)
		}
	}
	survivors := r.nodes(r.alive)
	if len(survivors) < 2 {
		return nil
	}
	return r.cluster.WaitReady(ctx, survivors, quiesceTimeout)
}

// verify (T6) runs the scenario's checkers on the survivors.
func (r *run) verify(ctx context.Context) error {
	targets := make([]verify.Target, 0, len(r.alive))
	for _, n := range r.nodes(r.alive) {
		targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
	}
	return r.runCheckers(ctx, targets)
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

// captureBefore records every live node's replication state once, before
// the first destructive fault.
func (r *run) captureBefore(ctx context.Context) {
	if r.captured {
		return
	}
	r.captured = true
	for _, n := range r.nodes(r.alive) {
		st, err := harness.CaptureNodeState(ctx, n.DSN)
		if err != nil {
			r.opts.Logger.Warn("capture node state before fault", "node", n.Name, "err", err)
			continue
		}
		r.report.Node(n.Name).BeforeFault = &st
	}
}

// collectNodeArtifacts takes every node's server log and the survivors'
// replication state after recovery.
func (r *run) collectNodeArtifacts(ctx context.Context) {
	if r.cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, n := range r.cluster.Nodes {
		rn := r.report.Node(n.Name)
		if logs, err := r.cluster.ServerLog(ctx, n); err == nil {
			rn.ServerLog = logs
		} else {
			r.opts.Logger.Warn("collect server log", "node", n.Name, "err", err)
		}
		if slices.Contains(r.alive, n.Name) {
			if st, err := harness.CaptureNodeState(ctx, n.DSN); err == nil {
				rn.AfterRecovery = &st
			}
		}
	}
}
