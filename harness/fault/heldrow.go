package fault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/harness"
)

// heldRow is a local session on a subscriber that holds FOR UPDATE locks
// on barrier rows of a provider, which a transaction of the provider then
// updates: the subscriber's apply worker waits for the session inside
// that transaction. The session's own deadlock_timeout is long, so in a
// deadlock with the apply worker (default 1 s) the worker is the one that
// detects it and is the victim.
type heldRow struct {
	conn     *pgx.Conn
	sub      *harness.Node
	pid      int      // the session's backend
	tokens   []string // the rows (token, provider)
	provider string
	value    string // what the provider's transaction sets their pad to
}

// Bounds of a held row's statements.
const (
	heldLockTimeout     = 10 * time.Second // one lock statement of the session
	heldDeadlockTimeout = "5s"             // the session's deadlock_timeout
	heldSetupTimeout    = 30 * time.Second // rows written and replicated
)

// newHeldRows writes n barrier rows on prov, waits for them on sub and
// opens the session (in a transaction, no lock taken yet).
func newHeldRows(ctx context.Context, sub, prov *harness.Node, kind string, n int) (*heldRow, error) {
	base := newToken(kind)
	h := &heldRow{sub: sub, provider: prov.Name, value: base}
	for i := range n {
		h.tokens = append(h.tokens, fmt.Sprintf("%s-%c", base, 'a'+i))
	}
	if err := execOne(ctx, prov, heldSetupTimeout, "INSERT INTO spockchaos.barrier (token, node) SELECT unnest($1::text[]), $2", h.tokens, prov.Name); err != nil {
		return nil, fmt.Errorf("write the rows to lock on %s: %w", prov.Name, err)
	}
	for _, t := range h.tokens {
		if err := waitMarker(ctx, []*harness.Node{sub}, t, prov.Name, heldSetupTimeout); err != nil {
			return nil, fmt.Errorf("the rows to lock never reached %s: %w", sub.Name, err)
		}
	}
	return h, h.open(ctx)
}

// open starts the session: a transaction with a long deadlock_timeout
// and a bounded statement_timeout, and its backend pid.
func (h *heldRow) open(ctx context.Context) error {
	sub := h.sub
	conn, err := sub.Connect(ctx)
	if err != nil {
		return fmt.Errorf("open the locking session on %s: %w", sub.Name, err)
	}
	h.conn = conn
	setup := fmt.Sprintf("BEGIN; SET LOCAL deadlock_timeout = '%s'; SET LOCAL statement_timeout = '%s'", heldDeadlockTimeout, heldLockTimeout)
	if _, err := conn.Exec(ctx, setup); err != nil {
		h.release()
		return fmt.Errorf("begin the locking session on %s: %w", sub.Name, err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&h.pid); err != nil {
		h.release()
		return fmt.Errorf("locking session on %s: %w", sub.Name, err)
	}
	return nil
}

// lock takes the row lock of tokens[i] in the session.
func (h *heldRow) lock(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, heldLockTimeout+5*time.Second)
	defer cancel()
	_, err := h.conn.Exec(ctx, "SELECT 1 FROM spockchaos.barrier WHERE token = $1 AND node = $2 FOR UPDATE", h.tokens[i], h.provider)
	if err != nil {
		return fmt.Errorf("lock row %s on %s: %w", h.tokens[i], h.sub.Name, err)
	}
	return nil
}

// providerTxn updates the rows in order (indexes into tokens) in one
// transaction of prov, after a first insert when first is set (so that
// the apply worker has written before it waits).
func (h *heldRow) providerTxn(ctx context.Context, prov *harness.Node, order []int, first bool) error {
	ctx, cancel := context.WithTimeout(ctx, heldSetupTimeout)
	defer cancel()
	conn, err := prov.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if first {
			if _, err := tx.Exec(ctx, "INSERT INTO spockchaos.barrier (token, node) VALUES ($1, $2)", h.value+"-first", prov.Name); err != nil {
				return err
			}
		}
		for _, i := range order {
			if _, err := tx.Exec(ctx, "UPDATE spockchaos.barrier SET pad = $1 WHERE token = $2 AND node = $3", h.value, h.tokens[i], prov.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update the locked rows on %s: %w", prov.Name, err)
	}
	return nil
}

// waitBlocked waits until the apply worker of subscription waits for the
// session, and returns its pid and the lock it waits for (pg_locks,
// granted = false).
func (h *heldRow) waitBlocked(ctx context.Context, c *harness.Cluster, subscription string, timeout time.Duration) (int, string, error) {
	var pid int
	var lock string
	what := fmt.Sprintf("the apply worker of %s on %s to wait for the locking session %d", subscription, h.sub.Name, h.pid)
	err := harness.WaitFor(ctx, what, timeout, 10*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		err := queryRow(ctx, h.sub, 5*time.Second, `SELECT a.pid, l.locktype || ' ' || l.mode FROM (`+c.Flavor.ApplyWorkerQuery()+`) a
JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted WHERE $2 = ANY(pg_blocking_pids(a.pid)) LIMIT 1`,
			[]any{subscription, h.pid}, &pid, &lock)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, "not waiting for the session", nil
		}
		return err == nil, "", err
	})
	return pid, lock, err
}

// checkArrived waits until sub has the provider's update of every held row.
func (h *heldRow) checkArrived(ctx context.Context, sub *harness.Node, timeout time.Duration, d Detail) error {
	if len(h.tokens) == 0 {
		return nil // a HeldTxn: the caller's checkers judge its transaction
	}
	q := fmt.Sprintf("SELECT count(*) FROM spockchaos.barrier WHERE node = '%s' AND pad = '%s'", h.provider, h.value)
	if err := harness.WaitCount(ctx, sub, q, int64(len(h.tokens)), timeout); err != nil {
		return fmt.Errorf("the transaction of %s that waited for the lock did not reach %s whole: %w", h.provider, sub.Name, err)
	}
	d["held_rows"] = h.tokens
	return nil
}

// release ends the session (its transaction rolls back; it wrote nothing).
func (h *heldRow) release() {
	if h.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.conn.Close(ctx)
	h.conn = nil
}

// isDeadlock reports whether err is PostgreSQL's deadlock_detected.
func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}
