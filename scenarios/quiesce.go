package scenarios

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

// quiesceTimeout bounds replication draining among the survivors.
const quiesceTimeout = 2 * time.Minute

// errNotQuiesced marks a quiesce whose survivors never all replicated and
// passed a barrier within quiesceTimeout: the checkers still run
// (execute), and afterStalledQuiesce decides what their results mean.
var errNotQuiesced = errors.New("the survivors did not quiesce")

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
	if d := disabledAmong(r.disabledSubs, r.alive); len(d) > 0 {
		return fmt.Errorf("%w: the server disabled %s on %s during the run and the harness never enables it again: not waited for", errNotQuiesced, d[0].sub, d[0].node)
	}
	if err := r.cluster.WaitReady(ctx, survivors, quiesceTimeout); err != nil {
		return fmt.Errorf("%w: %w", errNotQuiesced, err)
	}
	return nil
}

// disabledAmong are the subscriptions the server disabled during the run
// (heal_disabled.go) whose subscriber and provider both survive: the
// survivors cannot quiesce while one is disabled. In subscriber order.
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
