package scenarios

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// Apply-worker fault steps (steps_worker.go): cancel-apply,
// cancel-walsender and kill-apply take Step.When ("idle", "in-txn"; ""
// is wherever it lands, and is what old plans hold; CheckPlan refuses a
// moment a kind has not); lock-apply makes Node's apply worker for Peer
// a deadlock's victim and holds the rows for Hold. In a transaction
// (and for lock-apply) under the ledger workload, the transaction is a
// recorded 30,000-row large-txn op of Peer's (partsOf, WithLargeTxn,
// WithHeldTxn), which the checkers judge. Not in the chaos draw, nor in an overlap family.

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
	StepAddNode:         {"", joinSourceCrash, joinNoCopy},
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
// checkers judge (cancel-apply in-txn and lock-apply: one held by a local
// session), so that a transaction the flavor loses is a lost op, not a
// heal that never completes.
func (r *run) partsOf(s Step) []heldPart {
	parts := stepKinds[s.Kind].parts(r.cluster, s)
	inTxn := s.When == string(fault.InTxn)
	if !inTxn && s.Kind != StepLockApply {
		return parts
	}
	for i := range parts {
		if inTxn {
			parts[i].mode = fault.WithLargeTxn(parts[i].mode, r.largeTxnWriter(s.Peer, s.Kind, ""))
		}
		if next, ok := r.heldLedgerTxns(s); ok {
			parts[i].mode = fault.WithHeldTxn(parts[i].mode, next) // cancel-apply and lock-apply only
		}
	}
	return parts
}

// heldLedgerTxns makes recorded large-txn ops of s.Peer's that s.Node's
// apply worker waits inside: a local session on s.Node first inserts,
// without committing, the op's middle row, so the worker's insert of it
// waits for the session (until the fault heals); Close (lock-apply) then
// inserts the op's first row, which the worker already wrote: a deadlock
// whose victim is the worker. Not ok without the ledger workload.
func (r *run) heldLedgerTxns(s Step) (func() fault.HeldTxn, bool) {
	if _, ok := r.wl.(*workload.Ledger); !ok {
		return nil, false
	}
	insert := func(txnID string, seq int) func(context.Context, *pgx.Conn) error {
		return func(ctx context.Context, session *pgx.Conn) error {
			_, err := session.Exec(ctx, "INSERT INTO ledger (txn_id, seq, origin, payload) VALUES ($1, $2, $3, 'held by a local session')",
				txnID, seq, s.Peer)
			return err
		}
	}
	return func() fault.HeldTxn {
		txnID := fmt.Sprintf("large-%s-held-%d", s.Peer, time.Now().UnixNano())
		return fault.HeldTxn{Block: insert(txnID, fault.LargeTxnRows/2), Write: r.largeTxnWriter(s.Peer, s.Kind, txnID), Close: insert(txnID, 1)}
	}, true
}

// largeTxnWriter writes fault.LargeTxnRows ledger rows on provider as one
// recorded large-txn op (txn id txnID, "" for the workload's default);
// nil (the fault writes its own into the barrier table) when the workload
// is not the ledger.
func (r *run) largeTxnWriter(provider, kind, txnID string) fault.TxnWriter {
	if _, ok := r.wl.(*workload.Ledger); !ok {
		return nil
	}
	target := r.targets([]string{provider})[0]
	return func(ctx context.Context) error {
		out, err := workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: target, Rows: fault.LargeTxnRows, Process: provider + "-large-" + kind, TxnID: txnID}, r.rec)
		if err == nil && out.Type != history.Ok {
			err = fmt.Errorf("large transaction on %s: %s", provider, out.Error)
		}
		return err
	}
}
