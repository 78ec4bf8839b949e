package fault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// ErrNotOnFlavor is returned (wrapped) by Inject when the flavor has no
// such moment for the fault: it did nothing.
var ErrNotOnFlavor = errors.New("the flavor's worker has no such moment")

// CancelApply cancels (pg_cancel_backend) the apply worker of subscriber's
// subscription to provider at when: Idle (no transaction open; Spock
// only, see below) or InTxn (inside a transaction of provider: a local
// session on subscriber holds a row lock that the provider's transaction,
// written by Inject, updates after its first row, so the worker waits
// inside it). Effect: the server log of subscriber shows "canceling
// statement due to user request" from that pid. Heal releases the row
// lock; healed when the link replicates, a marker crosses it and the
// held transaction arrived whole. pglogical 2.4's apply loop checks for
// interrupts only inside a wait (a lock wait here): a cancel of an idle
// pglogical worker stays pending, so Idle is refused there
// (ErrNotOnFlavor) without touching the cluster.
func CancelApply(c *harness.Cluster, subscriber, provider string, when Moment) Mode {
	return &workerFault{base: base{c: c, kind: "cancel-apply"}, role: applyWorker, subscriber: subscriber, provider: provider,
		act: cancelBackend, when: when}
}

// CancelWalsender cancels the walsender on provider that streams to
// subscriber's subscription, at when: Idle (it waits for new WAL and the
// apply worker has no transaction open) or InTxn (while it still sends a
// large transaction the apply worker has begun: Inject writes one of
// LargeTxnRows rows, see WithLargeTxn). Effect: the provider's server log
// shows "canceling statement due to user request" from that pid (the
// walsender ends the stream with the error; the apply worker restarts).
// Heal has nothing to undo; healed when the link replicates, a marker
// crosses it and the large transaction arrived whole.
func CancelWalsender(c *harness.Cluster, provider, subscriber string, when Moment) Mode {
	return &workerFault{base: base{c: c, kind: "cancel-walsender"}, role: walsender, subscriber: subscriber, provider: provider,
		act: cancelBackend, when: when}
}

// KillApplyInTxn is KillApply while the worker is inside a large
// transaction of provider (Inject writes one of LargeTxnRows rows, see
// WithLargeTxn, and sends SIGTERM once the worker has written in it).
// Effect and heal as KillApply's; healed also requires the large
// transaction to arrive whole.
func KillApplyInTxn(c *harness.Cluster, subscriber, provider string) Mode {
	return &workerFault{base: base{c: c, kind: "kill-apply"}, role: applyWorker, subscriber: subscriber, provider: provider, when: InTxn}
}

// reachMoment waits for w.when (after making it happen, for InTxn) and
// keeps the sample that chose it.
func (w *workerFault) reachMoment(ctx context.Context) error {
	if w.when == Idle && w.role == applyWorker && w.c.Flavor.Name() == "pglogical" {
		return fmt.Errorf("cancel the idle apply worker of %s on %s: %w (pglogical acts on a cancel only inside a wait)",
			w.subscription(), w.subscriber, ErrNotOnFlavor)
	}
	applyPID, err := w.applyPID(ctx)
	if err != nil {
		return err
	}
	var s linkSample
	switch {
	case w.when == Idle:
		s, err = w.waitMoment(ctx, applyPID)
	case w.act == cancelBackend && w.role == applyWorker:
		s, err = w.holdInside(ctx, applyPID)
	default:
		s, err = w.catchLargeTxn(ctx, applyPID)
	}
	if err != nil {
		return err
	}
	w.moment = &s
	return nil
}

// catchLargeTxn writes a large transaction on the provider and waits
// until the link is inside it. It tries twice: a worker faster than the
// sampling may apply the whole transaction between two samples.
func (w *workerFault) catchLargeTxn(ctx context.Context, applyPID int) (linkSample, error) {
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		write := w.writeTxn
		if write == nil {
			w.bigTxn = newToken(w.kind + "-txn")
			write = barrierTxn(w.c.Node(w.provider), w.bigTxn)
		}
		written := make(chan error, 1)
		go func() { written <- write(ctx) }()
		var s linkSample
		s, err = w.waitMoment(ctx, applyPID)
		if err == nil {
			return s, nil
		}
		if werr := <-written; werr != nil {
			return s, werr
		}
	}
	return linkSample{}, fmt.Errorf("the %s of %s was never seen inside the large transaction: %w", w.processName(), w.subscription(), err)
}

// checkCanceled: the server log shows the cancel's error from the pid.
func (w *workerFault) checkCanceled(ctx context.Context, n *harness.Node, timeout time.Duration) (Detail, error) {
	_, line, err := waitLogLine(ctx, w.c, n, w.logFrom, []int{w.pid}, logCanceled, timeout)
	if err != nil {
		return nil, err
	}
	return w.withMoment(Detail{"pid": w.pid, "server_log": line}), nil
}

// withMoment adds the moment chosen and the sample that chose it.
func (w *workerFault) withMoment(d Detail) Detail {
	if w.when != Anytime {
		d["when"] = string(w.when)
	}
	if w.moment != nil {
		d["at_signal"] = w.moment.detail()
	}
	return d
}

// checkTxnArrived: the transaction the fault caught the worker inside
// reached the subscriber whole (its barrier rows, or the held row's
// update), when the fault wrote it itself.
func (w *workerFault) checkTxnArrived(ctx context.Context, sub, prov *harness.Node, timeout time.Duration, d Detail) error {
	var err error
	switch {
	case w.hold != nil:
		err = w.hold.checkArrived(ctx, sub, timeout, d)
	case w.bigTxn != "":
		q := fmt.Sprintf("SELECT count(*) FROM spockchaos.barrier WHERE token LIKE '%s-%%' AND node = '%s'", w.bigTxn, prov.Name)
		if err = harness.WaitCount(ctx, sub, q, LargeTxnRows, timeout); err != nil {
			err = fmt.Errorf("the large transaction %s of %s did not reach %s whole: %w", w.bigTxn, prov.Name, sub.Name, err)
		}
		d["large_txn"] = w.bigTxn
	}
	if err != nil {
		if line := discardLine(ctx, w.c, sub, w.subLogFrom); line != "" {
			err = fmt.Errorf("%w (server log of %s: %s)", err, sub.Name, line)
		}
	}
	return err
}

// holdInside makes the apply worker wait inside a transaction of the
// provider: a local session locks a row, the provider inserts a row and
// then updates the locked one in one transaction. The lock is held until
// Heal.
func (w *workerFault) holdInside(ctx context.Context, applyPID int) (linkSample, error) {
	sub, prov := w.c.Node(w.subscriber), w.c.Node(w.provider)
	if w.heldTxn != nil {
		return w.holdInsideHeldTxn(ctx, sub, applyPID)
	}
	h, err := newHeldRows(ctx, sub, prov, w.kind, 1)
	if err != nil {
		return linkSample{}, err
	}
	w.hold = h
	if err := h.lock(ctx, 0); err != nil {
		return linkSample{}, err
	}
	if err := h.providerTxn(ctx, prov, []int{0}, true); err != nil {
		return linkSample{}, err
	}
	return w.waitMoment(ctx, applyPID)
}

// HeldTxn is how CancelApply InTxn and LockApply hold the apply worker
// inside a transaction the caller writes (WithHeldTxn): Block runs in a
// local session on the subscriber, in a transaction kept open until
// Heal, and takes what Write's transaction on the provider needs after
// its first rows (e.g. an uncommitted insert of one of its keys: the
// worker waits for the session to end). Close (LockApply's only) then
// runs in the session once the worker waits: it takes what the worker
// already wrote in that transaction (e.g. an uncommitted insert of its
// first key), which closes the deadlock cycle; it returns when the worker
// was the victim.
type HeldTxn struct {
	Block func(ctx context.Context, session *pgx.Conn) error
	Write TxnWriter
	Close func(ctx context.Context, session *pgx.Conn) error
}

// WithHeldTxn makes a CancelApply InTxn, or a LockApply when next's
// transactions have Close, hold the worker inside a transaction of
// next's instead of one on the barrier table; its heal check then leaves
// the transaction's rows to the caller's checkers. next is called once
// per attempt (LockApply tries again with a new one when its session,
// not the worker, was the deadlock's victim). Other modes are returned
// as they are.
func WithHeldTxn(m Mode, next func() HeldTxn) Mode {
	switch f := m.(type) {
	case *workerFault:
		if f.act == cancelBackend && f.role == applyWorker {
			held := next()
			f.heldTxn = &held
		}
	case *lockApply:
		if next().Close != nil {
			f.heldTxns = next
		}
	}
	return m
}

func (w *workerFault) holdInsideHeldTxn(ctx context.Context, sub *harness.Node, applyPID int) (linkSample, error) {
	h := &heldRow{sub: sub, provider: w.provider}
	if err := h.open(ctx); err != nil {
		return linkSample{}, err
	}
	w.hold = h
	if err := w.heldTxn.Block(ctx, h.conn); err != nil {
		return linkSample{}, fmt.Errorf("hold the transaction of %s on %s: %w", w.provider, sub.Name, err)
	}
	written := make(chan error, 1)
	go func() { written <- w.heldTxn.Write(ctx) }()
	s, err := w.waitMoment(ctx, applyPID)
	if err != nil {
		if werr := <-written; werr != nil {
			return s, werr
		}
	}
	return s, err
}
