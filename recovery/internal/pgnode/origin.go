package pgnode

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
)

var holderPID = regexp.MustCompile(`PID (\d+)`)

// acquireOrigin sets up origin for conn's session, waiting (bounded) while
// another process holds it: right after a fence the apply worker may still
// be exiting, and a concurrent recovery may be replaying into this node.
// In the same round trip it runs what prepare queues first (set_config
// for the session, reads; a refused set-up rolls it back with it, and
// prepare queues it again into the next try's batch), and then reads the
// origin's progress under the hold, which it returns.
func AcquireOrigin(ctx context.Context, conn *pgx.Conn, node, origin string, timeout time.Duration, prepare func(*pgx.Batch)) (recovery.LSN, error) {
	var progress recovery.LSN
	err := harness.WaitForBackoff(ctx, fmt.Sprintf("replication origin %s on %s to be free", origin, node), timeout, PollFirst, PollMost,
		func(ctx context.Context) (bool, string, error) {
			b := &pgx.Batch{}
			if prepare != nil {
				prepare(b)
			}
			b.Queue("SELECT pg_replication_origin_session_setup($1)", origin)
			p, err := ProgressAfter(ctx, conn, b, origin)
			if err == nil {
				progress = p
				return true, "", nil
			}
			if busy, holder := originBusy(err); busy {
				return false, "held by " + holder, nil
			}
			// The set-up may have passed and the read after it failed.
			_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
			return false, "", fmt.Errorf("set up origin %s on %s: %w", origin, node, err)
		})
	return progress, err
}

// originBusy tells whether err says the origin is held by another process,
// and names that process.
func originBusy(err error) (bool, string) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
		return false, ""
	}
	holder := "another process"
	if m := holderPID.FindStringSubmatch(pgErr.Message); m != nil {
		holder = "PID " + m[1]
	}
	return true, holder
}

// pollFirst and pollMost bound how often a recovery step re-checks a node
// for a state that usually lasts milliseconds (a worker letting go of an
// origin or a slot): on the recovery's critical path, every round of
// waiting counts (a state that lasts 5 ms is seen gone after at most 10),
// and a wait of seconds costs a hundred cheap queries a second.
const PollFirst, PollMost = time.Millisecond, 10 * time.Millisecond

// waitWorkerGone waits until no replication worker holds origin on the
// node: a session can take it (and gives it back at once), or it is held
// by a client backend, i.e. a concurrent recovery, not an apply worker.
// When a session could take it, the origin's position was read in the
// same round trip, right after the worker let go of it: read reports it
// (the progress step needs no query of its own).
func WaitWorkerGone(ctx context.Context, conn *pgx.Conn, node, origin string, timeout time.Duration) (remote, local recovery.LSN, read bool, err error) {
	err = harness.WaitForBackoff(ctx, fmt.Sprintf("apply worker for origin %s on %s to exit", origin, node), timeout, PollFirst, PollMost,
		func(ctx context.Context) (bool, string, error) {
			// Take, give back and read in one round trip: the batch stops
			// at the first error, so a refused set-up releases nothing.
			b := &pgx.Batch{}
			b.Queue("SELECT pg_replication_origin_session_setup($1)", origin)
			b.Queue("SELECT pg_replication_origin_session_reset()")
			var err error
			if remote, local, err = PositionAfter(ctx, conn, b, origin); err == nil {
				read = true
				return true, "", nil
			}
			busy, holder := originBusy(err)
			if !busy {
				return false, "", fmt.Errorf("probe origin %s on %s: %w", origin, node, err)
			}
			var pid int32
			if m := holderPID.FindStringSubmatch(err.Error()); m != nil {
				fmt.Sscan(m[1], &pid)
			}
			var backendType string
			if err := conn.QueryRow(ctx, "SELECT coalesce(backend_type, '') FROM pg_stat_activity WHERE pid = $1", pid).Scan(&backendType); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return false, "", fmt.Errorf("look up holder of origin %s on %s: %w", origin, node, err)
			}
			if backendType == "client backend" {
				return true, "", nil
			}
			return false, fmt.Sprintf("held by %s (%s)", holder, backendType), nil
		})
	return remote, local, read, err
}
