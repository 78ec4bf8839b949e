package scenarios

import (
	"context"
	"fmt"
	"slices"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// Step kinds of the apply-worker faults (issue 26). Step.When picks the
// moment of cancel-apply, cancel-walsender and kill-apply: "idle",
// "in-txn", or "" (wherever it lands; kill-apply only).
const (
	// StepCancelApply: cancel Node's apply worker for Peer's changes; in-txn
	// holds it inside a transaction of Peer's on a local row lock for Hold.
	StepCancelApply = "cancel-apply"
	// StepCancelWalsender: cancel the walsender on Peer that streams to Node.
	StepCancelWalsender = "cancel-walsender"
	// StepLockApply: Node's apply worker for Peer's changes made a
	// deadlock's victim by a local session, which holds the rows for Hold.
	StepLockApply = "lock-apply"
)

// stepMoments are the moments (Step.When) a kind may name: the worker
// faults that take one, and "" (wherever it lands) where that is allowed.
// An idle cancel of the apply worker is Spock's only (pglogical's idle
// worker never acts on a cancel: fault.ErrNotOnFlavor).
var stepMoments = map[string][]string{
	StepCancelApply:     {"idle", "in-txn"},
	StepCancelWalsender: {"idle", "in-txn"},
	StepKillApply:       {"", "in-txn"},
}

// checkStepMoment refuses a moment the step's kind has not.
func checkStepMoment(s Step) error {
	allowed, ok := stepMoments[s.Kind]
	if !ok {
		allowed = []string{""}
	}
	if !slices.Contains(allowed, s.When) {
		return fmt.Errorf("%s takes moment %q, not %q", s.Kind, allowed, s.When)
	}
	return nil
}

func cancelApply(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.CancelApply(c, s.Node, s.Peer, fault.Moment(s.When)), "apply worker for " + s.Peer + " cancelled " + s.When
}

func cancelWalsender(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.CancelWalsender(c, s.Peer, s.Node, fault.Moment(s.When)), "walsender of " + s.Peer + " streaming to " + s.Node + " cancelled " + s.When
}

func killApply(c *harness.Cluster, s Step) (fault.Mode, string) {
	if s.When == string(fault.InTxn) {
		return fault.KillApplyInTxn(c, s.Node, s.Peer), "apply worker for " + s.Peer + " in-txn"
	}
	return fault.KillApply(c, s.Node, s.Peer), "apply worker for " + s.Peer
}

func lockApply(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.LockApply(c, s.Node, s.Peer), "apply worker for " + s.Peer + " a deadlock's victim, then waiting for a local session"
}

// partsOf is the faults of held step s on the run's cluster. A worker
// fault in a transaction, under the ledger workload, writes that
// transaction as a recorded large-txn op of Peer's, which the run's
// checkers judge.
func (r *run) partsOf(s Step) []heldPart {
	parts := stepKinds[s.Kind].parts(r.cluster, s)
	if s.When == string(fault.InTxn) {
		for i := range parts {
			parts[i].mode = fault.WithLargeTxn(parts[i].mode, r.largeTxnWriter(s.Peer, s.Kind))
		}
	}
	return parts
}

// largeTxnWriter writes fault.LargeTxnRows ledger rows on provider as one
// recorded large-txn op; nil (the fault writes its own into the barrier
// table) when the workload is not the ledger.
func (r *run) largeTxnWriter(provider, kind string) fault.TxnWriter {
	if _, ok := r.wl.(*workload.Ledger); !ok {
		return nil
	}
	target := r.targets([]string{provider})[0]
	return func(ctx context.Context) error {
		out, err := workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: target, Rows: fault.LargeTxnRows, Process: provider + "-large-" + kind}, r.rec)
		if err == nil && out.Type != history.Ok {
			err = fmt.Errorf("large transaction on %s: %s", provider, out.Error)
		}
		return err
	}
}
