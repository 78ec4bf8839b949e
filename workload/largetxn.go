package workload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// FLargeTxn is the large-transaction op: a ledger txn of many rows.
const FLargeTxn = "large-txn"

// MinLargeTxnRows is the smallest K the contract calls large.
const MinLargeTxnRows = 20000

// LargeTxnConfig describes one large transaction.
type LargeTxnConfig struct {
	Target  Target
	Rows    int // K (default MinLargeTxnRows)
	Process string
	// TxnID defaults to "large-<process>-<unix nanos>".
	TxnID string
	// OnCommitSent, if set, is called once COMMIT has been written to the
	// connection and before its answer is read: the moment to kill the
	// node for a kill-during-commit fault. It runs on the op's goroutine;
	// the op waits for the answer after it returns.
	OnCommitSent func()
	// Timeout bounds the op (default 2 minutes).
	Timeout time.Duration
	// CommitDelay, if set, holds this transaction's WAL flush at COMMIT
	// for that long (commit_delay with commit_siblings 0, at most 100 ms),
	// as a slow disk would: a fault fired at OnCommitSent then lands while
	// COMMIT is in flight instead of after it (a 20,000-row COMMIT alone
	// takes a few ms, less than a SIGKILL through Docker).
	CommitDelay time.Duration
}

// LargeTxn inserts rows ledger rows of one new transaction on target in
// one transaction (COPY), recorded as F "large-txn" with Value {"rows": K}
// by process. It returns nil when the op is ok, else the op's error (the
// completion, fail or info, is recorded either way).
func LargeTxn(ctx context.Context, target Target, rows int, rec *history.Recorder, process string) error {
	out, err := LargeTxnWith(ctx, LargeTxnConfig{Target: target, Rows: rows, Process: process}, rec)
	if err != nil {
		return err
	}
	if out.Type != history.Ok {
		return fmt.Errorf("large txn on %s: %s: %s", target.Name, out.Type, out.Error)
	}
	return nil
}

// LargeTxnWith is LargeTxn with its options (OnCommitSent); it returns the
// recorded outcome. The error is only for a harness problem (no recorder);
// a connect failure is recorded as fail.
func LargeTxnWith(ctx context.Context, cfg LargeTxnConfig, rec *history.Recorder) (Outcome, error) {
	if rec == nil {
		return Outcome{}, errors.New("large txn: no history recorder")
	}
	if cfg.Rows <= 0 {
		cfg.Rows = MinLargeTxnRows
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.TxnID == "" {
		cfg.TxnID = fmt.Sprintf("large-%s-%d", cfg.Process, time.Now().UnixNano())
	}
	opCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	// Connect before the invoke: a node that refuses connections gets no op.
	conn, err := pgx.Connect(opCtx, cfg.Target.dsn())
	inv := rec.Invoke(cfg.Process, cfg.Target.Name, FLargeTxn, LedgerValue{Rows: cfg.Rows}, cfg.TxnID)
	phase := BeforeCommit
	if err == nil {
		defer conn.Close(context.WithoutCancel(ctx))
		err = copyLedgerTxn(opCtx, conn, cfg, func() {
			phase = CommitInFlight
			if cfg.OnCommitSent != nil {
				cfg.OnCommitSent()
			}
		})
	}
	out := Classify(err, phase)
	errText := ""
	if err != nil {
		errText = out.Reason + ": " + err.Error()
	}
	out.Error = errText
	rec.Complete(inv, out.Type, nil, errText)
	return out, nil
}

func copyLedgerTxn(ctx context.Context, conn *pgx.Conn, cfg LargeTxnConfig, sent func()) error {
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("begin large txn %s on %s: %w", cfg.TxnID, cfg.Target.Name, err)
	}
	payload := fmt.Sprintf("large payload of %s", cfg.TxnID)
	src := pgx.CopyFromSlice(cfg.Rows, func(i int) ([]any, error) {
		return []any{cfg.TxnID, int32(i + 1), cfg.Target.Name, payload}, nil
	})
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"ledger"}, []string{"txn_id", "seq", "origin", "payload"}, src); err != nil {
		return fmt.Errorf("copy large txn %s on %s: %w", cfg.TxnID, cfg.Target.Name, err)
	}
	if cfg.CommitDelay > 0 {
		us := min(cfg.CommitDelay, 100*time.Millisecond).Microseconds()
		if _, err := conn.Exec(ctx, fmt.Sprintf("SET LOCAL commit_delay = %d; SET LOCAL commit_siblings = 0", us), pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("set commit delay of large txn %s on %s: %w", cfg.TxnID, cfg.Target.Name, err)
		}
	}
	if err := Commit(ctx, conn, sent); err != nil {
		return fmt.Errorf("commit large txn %s on %s: %w", cfg.TxnID, cfg.Target.Name, err)
	}
	return nil
}
