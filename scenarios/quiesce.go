package scenarios

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/verify"
)

// quiesceTimeout bounds replication draining among the survivors.
const quiesceTimeout = 2 * time.Minute

// errNotQuiesced marks a quiesce whose survivors never all replicated and
// passed a barrier within quiesceTimeout: the checkers still run
// (execute), and afterStalledQuiesce decides what their results mean.
var errNotQuiesced = errors.New("the survivors did not quiesce")

// quiesce (T5) heals the lags whose both ends survived, enables again the
// subscriptions the server disabled during the run (resumeDisabled), then
// waits until every subscription among the survivors replicates and a
// barrier among them passes: every survivor has applied every other's
// writes.
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
	if err := r.resumeDisabled(ctx, disabledAmong(r.disabledSubs, r.alive)); err != nil {
		return fmt.Errorf("%w: %w", errNotQuiesced, err)
	}
	if err := r.cluster.WaitReady(ctx, survivors, quiesceTimeout); err != nil {
		return fmt.Errorf("%w: %w", errNotQuiesced, err)
	}
	return nil
}

// resumeDisabled enables each subscription the server disabled during
// the run, as its operator would once the load is over (what
// exception_behaviour sub_disable asks of one: look, then resume), so
// that the checkers judge what the disable held back, and what it lost,
// rather than rows still queued behind it. Each gets a note on the fault
// record that saw the disable. A server that disables it again makes the
// quiesce stall, and replication-health names it with the server's
// reason.
func (r *run) resumeDisabled(ctx context.Context, subs []touchedSub) error {
	for _, t := range subs {
		if err := fault.Enable(ctx, r.cluster, t.node, t.prov); err != nil {
			return fmt.Errorf("enable %s on %s again after the load (the server had disabled it): %w", t.sub, t.node, err)
		}
		note := fmt.Sprintf("after the load the harness enabled %s on %s again, as an operator would", t.sub, t.node)
		r.out.linef("%s\n", note)
		r.report.Faults[r.disabledSubs[t]].Detail += "; " + note
	}
	return nil
}

// disabledAmong are the subscriptions the server disabled during the run
// (heal_disabled.go) whose subscriber and provider both survive: the
// survivors cannot quiesce while one is disabled (resumeDisabled enables
// them). In subscriber order.
func disabledAmong(disabled map[touchedSub]int, alive []string) []touchedSub {
	var out []touchedSub
	for t := range disabled {
		if slices.Contains(alive, t.node) && slices.Contains(alive, t.prov) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b touchedSub) int {
		return cmp.Or(strings.Compare(a.node, b.node), strings.Compare(a.sub, b.sub))
	})
	return out
}

// afterStalledQuiesce decides a run whose quiesce did not complete
// (qerr) but whose checkers ran anyway. Their results stand only when a
// checker that reads what the servers recorded failed: replication-health
// (subscriptions among the survivors down, disabled or their workers
// ended by errors, named with the server's reason: why the barrier never
// passed) or exception-audit (Spock's exception_log holds failed applies
// the workload does not explain: transactions the server discarded). The
// verdict is then FAIL (theirs, plus whatever the others found, each
// marked as judged on survivors that never quiesced). Otherwise qerr
// stays the run's error and the verdict unknown: a cluster that could not
// be brought level is neither passed nor failed on a comparison of its
// rows.
func afterStalledQuiesce(qerr error, checks []verify.CheckResult) ([]verify.CheckResult, error) {
	evidence := func(c verify.CheckResult) bool { return stallEvidence[c.Name] && c.Verdict == verify.Fail }
	if !slices.ContainsFunc(checks, evidence) {
		return checks, qerr
	}
	out := slices.Clone(checks)
	for i := range out {
		if !stallEvidence[out[i].Name] && out[i].Verdict != verify.Skipped {
			out[i].Summary += fmt.Sprintf(" (judged on survivors that never quiesced: %v)", qerr)
		}
	}
	return out, nil
}

// stallEvidence are the checkers whose failure explains a quiesce that
// did not complete: they judge what the servers recorded, not rows that
// may still be on their way.
var stallEvidence = map[string]bool{CheckReplicationHealth: true, CheckExceptionAudit: true}
