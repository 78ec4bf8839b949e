package fault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// A worker fault's Moment (idle, in-txn) is chosen from
// pg_stat_activity samples (linkSample) and recorded as at_signal.
// In-txn writes a large transaction on the provider (or the caller's,
// WithLargeTxn); a cancel of the apply worker is held inside one by a
// local session's row lock instead (heldRow, WithHeldTxn): pglogical
// acts on a cancel only in a wait. Cancels and the deadlock are proven
// by their server log line from the pid, lock-apply also by pg_locks;
// a lost transaction's heal error quotes the subscriber's discard line.

// Moment is the point of a link's stream at which a worker fault strikes.
type Moment string

const (
	Anytime Moment = ""       // wherever it lands
	Idle    Moment = "idle"   // between transactions: the apply worker has none open
	InTxn   Moment = "in-txn" // inside a transaction of the provider the apply worker has open
)

// ParseMoment checks a moment's name ("" is Anytime).
func ParseMoment(s string) (Moment, error) {
	switch w := Moment(s); w {
	case Anytime, Idle, InTxn:
		return w, nil
	}
	return "", fmt.Errorf("unknown moment %q (want %q or %q)", s, Idle, InTxn)
}

// Bounds of the wait for a moment.
const (
	momentWait  = 30 * time.Second     // for the moment, per attempt
	momentEvery = 5 * time.Millisecond // between samples
	// LargeTxnRows is the size of the transaction a fault writes itself
	// to catch the apply worker inside one: ~1 s of apply here.
	LargeTxnRows = 30000
)

// linkSample is one look at a link's processes, the input of the moment
// decisions.
type linkSample struct {
	ApplyXact  bool   // the apply worker has a transaction open (xact_start)
	ApplyXid   bool   // ... and wrote in it (backend_xid)
	ApplyWait  string // wait_event_type of the apply worker ("" when running)
	SenderWait string // wait_event of the walsender ("" when running or not sampled)
}

// isIdle: no transaction open in the apply worker and, for a walsender,
// the walsender waits for new WAL (it has sent everything).
func (s linkSample) isIdle(role workerRole) bool {
	if role == walsender {
		return !s.ApplyXact && s.SenderWait == "WalSenderWaitForWal"
	}
	return !s.ApplyXact
}

// inTxn: the apply worker wrote in a transaction it has not committed;
// for a walsender, the walsender still sends (it is not waiting for new
// WAL); for a cancel of the apply worker, the worker also waits on a lock
// (pglogical acts on a cancel only in a wait: its apply loop never checks
// for interrupts otherwise).
func (s linkSample) inTxn(role workerRole, act action) bool {
	switch {
	case !s.ApplyXid:
		return false
	case role == walsender:
		return s.SenderWait != "WalSenderWaitForWal"
	case act == cancelBackend:
		return s.ApplyWait == "Lock"
	}
	return true
}

// at says whether the sample is the moment when.
func (s linkSample) at(when Moment, role workerRole, act action) bool {
	switch when {
	case Idle:
		return s.isIdle(role)
	case InTxn:
		return s.inTxn(role, act)
	}
	return true
}

func (s linkSample) detail() Detail {
	d := Detail{"apply_xact_open": s.ApplyXact, "apply_xid": s.ApplyXid, "apply_wait": s.ApplyWait}
	if s.SenderWait != "" {
		d["walsender_wait"] = s.SenderWait
	}
	return d
}

// sample looks at the link's apply worker (applyPID on the subscriber)
// and, for a walsender fault, at the walsender (w.pid on the provider).
func (w *workerFault) sample(ctx context.Context, applyPID int) (linkSample, error) {
	var s linkSample
	sub := w.c.Node(w.subscriber)
	err := queryRow(ctx, sub, 5*time.Second, `SELECT xact_start IS NOT NULL, backend_xid IS NOT NULL, coalesce(wait_event_type, '')
FROM pg_stat_activity WHERE pid = $1`, []any{applyPID}, &s.ApplyXact, &s.ApplyXid, &s.ApplyWait)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("apply worker %d of %s on %s is gone", applyPID, w.subscription(), w.subscriber)
	}
	if err != nil || w.role != walsender {
		return s, err
	}
	err = queryRow(ctx, w.c.Node(w.provider), 5*time.Second, "SELECT coalesce(wait_event, '') FROM pg_stat_activity WHERE pid = $1",
		[]any{w.pid}, &s.SenderWait)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("walsender %d of %s on %s is gone", w.pid, w.subscription(), w.provider)
	}
	return s, err
}

// waitMoment samples the link until it is at w.when, for at most momentWait.
func (w *workerFault) waitMoment(ctx context.Context, applyPID int) (linkSample, error) {
	var last linkSample
	what := fmt.Sprintf("the %s of %s to be %s", w.processName(), w.subscription(), w.when)
	err := harness.WaitFor(ctx, what, momentWait, momentEvery, func(ctx context.Context) (bool, string, error) {
		s, err := w.sample(ctx, applyPID)
		if err != nil {
			return false, "", err
		}
		last = s
		return s.at(w.when, w.role, w.act), fmt.Sprint(s.detail()), nil
	})
	return last, err
}

// applyPID is the pid of the link's apply worker now.
func (w *workerFault) applyPID(ctx context.Context) (int, error) {
	if w.role == applyWorker {
		return w.findPID(ctx)
	}
	var pid int
	err := queryRow(ctx, w.c.Node(w.subscriber), 5*time.Second, w.c.Flavor.ApplyWorkerQuery(), []any{w.subscription()}, &pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("no apply worker of %s on %s", w.subscription(), w.subscriber)
	}
	return pid, err
}

// TxnWriter writes one large transaction on a link's provider and
// returns once it committed: what an in-txn fault catches the apply worker
// inside.
type TxnWriter func(ctx context.Context) error

// WithLargeTxn makes an in-txn worker fault (kill-apply, cancel-walsender)
// write its large transaction with write instead of into the harness's
// barrier table, e.g. as a workload op that the run's checkers judge; the
// heal check then leaves the transaction's rows to them. Other modes are
// returned as they are.
func WithLargeTxn(m Mode, write TxnWriter) Mode {
	if w, ok := m.(*workerFault); ok {
		w.writeTxn = write
	}
	return m
}

// barrierTxn writes LargeTxnRows rows "<token>-<i>" into spockchaos.barrier
// on provider in one transaction.
func barrierTxn(provider *harness.Node, token string) TxnWriter {
	return func(ctx context.Context) error {
		err := execOne(ctx, provider, time.Minute, `INSERT INTO spockchaos.barrier (token, node, pad)
SELECT $1 || '-' || g, $2, repeat('x', 64) FROM generate_series(1, $3::int) g`, token, provider.Name, LargeTxnRows)
		if err != nil {
			return fmt.Errorf("large transaction %s on %s: %w", token, provider.Name, err)
		}
		return nil
	}
}
