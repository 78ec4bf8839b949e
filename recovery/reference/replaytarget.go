package reference

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// replayTarget is one survivor being brought up to the source: its
// session (holding its replication origin for the failed node), where it
// starts, and the applier fed from the shared stream.
type replayTarget struct {
	st   *survivorState
	conn *pgx.Conn
	from recovery.LSN // its progress when the replay started
	// fromPos is from as a position in the failed node's commit order:
	// from itself (pglogical) or its spock.progress commit timestamp.
	fromPos position
	ap      *applier
	start   time.Time
	txns    chan *txn
	// applyErr is the first apply error; once set, the rest of the stream
	// is drained and dropped.
	applyErr error
	// gap is set when the router cut the target off (the stream began
	// after the target's position): it is then given nothing more.
	gap error
	// failOnce tells the stream this target no longer applies.
	failOnce func()
	spock    bool
	// unplaced: the target's position in commit order is unknown (Spock
	// without a spock.progress row for the failed node).
	unplaced bool
}

// posString shows a position the way the target's flavor places it.
func posString(t *replayTarget, p position) string {
	if t.spock {
		return "commit time " + time.UnixMicro(int64(p)).UTC().Format("15:04:05.000000")
	}
	return "origin LSN " + recovery.LSN(p).String()
}

// openTarget prepares target for a replay from source: its own session
// (target.conn) given the apply worker's settings and holding target's
// origin for the failed node,
// and its progress read under that hold. It returns nil (and no error)
// when the target already holds all the source holds.
func openTarget(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source, target *survivorState) (*replayTarget, error) {
	fail := func(step string, err error) error {
		return fmt.Errorf("recover %s from %s on %s: %s: %w", in.Failed, source.Name, target.Name, step, err)
	}
	start := time.Now()
	// The survivor's own session (fenced and read with it) replays: one
	// login fewer on the recovery's critical path.
	conn := target.conn
	// Commits are asynchronous for speed; each carries its origin progress,
	// so a crash loses data and progress together, and a final flush (see
	// closeTarget) makes the whole replay durable before success is
	// reported. The role is the apply worker's: user triggers and foreign
	// keys act as they do for replicated changes. All set up with the
	// origin in one round trip, and its progress read again under the
	// hold: a concurrent recovery may have advanced it meanwhile.
	// The user tables' column types come in the same round trip, so the
	// first transaction applies without a look-up of its own.
	ap := newApplier(conn, target.Name)
	from, err := pgnode.AcquireOrigin(ctx, conn, target.Name, target.origin, in.StepTimeout, func(b *pgx.Batch) {
		b.Queue("SELECT set_config('synchronous_commit', 'off', false), set_config('session_replication_role', 'replica', false), set_config('statement_timeout', $1, false)",
			strconv.FormatInt(in.StepTimeout.Milliseconds(), 10))
		ap.preloadTypes(b)
	})
	if err != nil {
		return nil, fail("origin", err)
	}
	rec.Action(target.Name, "set up replication origin "+target.origin+" for the replay session", "progress "+from.String(), nil)
	if !needsReplay(from, source.lsn) {
		rec.Action(target.Name, "nothing to replay", fmt.Sprintf("progress %s already at or past source %s", from, source.lsn), nil)
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
		return nil, nil
	}
	rt := &replayTarget{st: target, conn: conn, from: from, fromPos: position(from), ap: ap, start: start,
		txns: make(chan *txn, 2*maxBatchTxns)}
	if target.spock != nil {
		// Read again under the hold, as progress above. Spock's stream
		// carries no origin LSN: every replayed commit keeps the origin
		// where it is (from), and closeTarget advances it once, after the
		// stream proved it held everything up to the source's progress.
		sp, err := readSpockProgress(ctx, conn, in.Failed)
		if err != nil {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
			return nil, fail("spock progress", err)
		}
		rt.fromPos = 0
		if sp.known {
			rt.fromPos = tsPosition(sp.appliedTS)
		} else if from != 0 {
			// It applied some of the failed node, but Spock cannot say
			// up to when: it is offered everything (last update wins
			// skips what it has), and its progress is not advanced.
			rt.unplaced = true
		}
		rt.ap.pinLSN = from
		rt.spock = true
		rec.Action(target.Name, "replay "+in.Failed+"'s transactions committed after", sp.String(), nil)
	}
	return rt, nil
}

// proveComplete checks, before a target's progress is moved to the
// source's (at now, behind it), that the stream accounted for everything
// in between (completeness, rules.go); the error says what is missing.
func proveComplete(in recovery.Input, source *survivorState, t *replayTarget, now recovery.LSN, a *assembler) error {
	target := t.st.Name
	switch recovery.Completeness(a.proof(), t.fromPos, t.from, t.unplaced) {
	case recovery.NoFailedTxn:
		return fmt.Errorf("the stream of %s's slot held no transaction of %s while %s (at %s) is ahead of %s (at %s): transactions in (%s, %s] of %s unaccounted for, progress not advanced",
			source.Name, in.Failed, source.Name, source.lsn, target, now, now, source.lsn, in.Failed)
	case recovery.UnplacedTarget:
		return fmt.Errorf("%s's position for %s is unknown (spock.progress has no row for it) while its origin is at %s: progress not advanced to %s's %s", target, in.Failed, now, source.Name, source.lsn)
	case recovery.NotCovered:
		return fmt.Errorf("the stream of %s's slot starts after %s's position for %s (%s; first transaction of %s in it at %s; %s): transactions between are unaccounted for, progress left at %s",
			source.Name, target, in.Failed, posString(t, t.fromPos), in.Failed, posString(t, a.stats.firstPos), floorString(a), now)
	}
	return nil
}

// floorString says which floor message the stream held, if any.
func floorString(a *assembler) string {
	if !a.floorSet {
		return "no floor message valid from the stream's start " + a.start.String()
	}
	return fmt.Sprintf("floor message at origin LSN %s (local %s)", a.floor, a.stats.floorAt)
}

// applyAll applies what arrives on t.txns until it is closed. A batch is
// sent when full, when the stream ends, or when nothing more is waiting and
// its first transaction has waited batchLinger: while the source decodes
// no faster than the target applies, sending each transaction on its own
// costs the target a round trip and a commit's wake-ups per transaction,
// CPU the source's decoding then lacks on a small machine (bench rto, 1,000
// transactions, walsender stream: one run sent 240 batches, 146 of one
// transaction, in a 357 ms recover phase; one with 5 full batches took
// 155 ms). After an apply error it only
// drains. It returns the first apply error (or the final flush's).
func (t *replayTarget) applyAll(ctx context.Context, onFail func()) error {
	linger := time.NewTimer(batchLinger)
	defer linger.Stop()
	for {
		x, ok, lingered := t.next(linger)
		if lingered { // only while no apply error
			if t.applyErr = t.ap.flush(ctx); t.applyErr != nil {
				onFail()
			}
			continue
		}
		if !ok {
			break
		}
		if t.applyErr != nil {
			continue
		}
		if t.applyErr = t.ap.add(ctx, x); t.applyErr != nil {
			onFail()
		}
	}
	if t.applyErr == nil {
		t.applyErr = t.ap.flush(ctx)
	}
	return t.applyErr
}

// batchLinger is how long a batch's first transaction waits for others
// before the batch is sent with the target otherwise idle.
const batchLinger = 2 * time.Millisecond

// next returns the next transaction (ok false: the stream ended), or
// lingered when a batch is queued, nothing more is waiting and its first
// transaction has waited batchLinger.
func (t *replayTarget) next(linger *time.Timer) (x *txn, ok, lingered bool) {
	if t.ap.batchTxns == 0 || t.applyErr != nil {
		x, ok = <-t.txns
		return x, ok, false
	}
	select {
	case x, ok = <-t.txns:
		return x, ok, false
	default:
	}
	wait := batchLinger - time.Since(t.ap.batchStart)
	if wait <= 0 {
		return nil, true, true
	}
	linger.Reset(wait)
	select {
	case x, ok = <-t.txns:
		linger.Stop() // Go 1.23 timers: nothing stale is left to receive
		return x, ok, false
	case <-linger.C:
		return nil, true, true
	}
}

// closeTarget finishes a replay on t: it records the pair, and when the
// replay succeeded it writes one flushed WAL record after every replayed
// commit (the replay is durable before success is reported) and reads t's
// progress in the same round trip; when that is behind the source's (past
// trailing transactions that touched only skipped tables, or on Spock,
// whose replays leave the origin where it was) and the stream proved
// complete, it advances it to the source's by an empty origin transaction
// while the session still holds the origin, flushed too. On success the
// session keeps the origin for verify-progress to release (one round trip
// fewer); on failure it is released here, out of any transaction a failed
// apply left open.
func closeTarget(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source *survivorState, t *replayTarget, a *assembler, streamErr error) (err error) {
	defer func() {
		if err == nil {
			t.st.holdsOrigin = true
			return
		}
		if t.applyErr != nil {
			_, _ = t.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		_, _ = t.conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
	}()
	target := t.st
	ap := t.ap
	rec.Pair(recovery.Pair{Source: source.Name, Target: target.Name, Transactions: ap.txns, Rows: ap.rows, RowsSkipped: ap.skippedRows,
		FromLSN: t.from.String(), ToLSN: ap.last.String(), Duration: time.Since(t.start), ApplyDuration: ap.applying,
		DecodeDuration: a.stats.streamed, Decoded: a.stats.transactions})
	replayErr := errors.Join(streamErr, t.applyErr, t.gap)
	rec.Action(target.Name, fmt.Sprintf("replayed from %s", source.Name),
		fmt.Sprintf("%d transactions, %d rows (%d skipped); stream: %d txns decoded, %d of %s, %d already applied on every target",
			ap.txns, ap.rows, ap.skippedRows, a.stats.transactions, a.stats.originTxns, in.Failed, a.stats.alreadyApplied), replayErr)
	if replayErr != nil {
		return fmt.Errorf("recover %s from %s on %s: replay step: %w", in.Failed, source.Name, target.Name, replayErr)
	}
	now, err := flushAndProgress(ctx, t.conn, target.origin, nil)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: flush WAL and read progress: %w", in.Failed, source.Name, target.Name, err)
	}
	if now >= source.lsn {
		return nil
	}
	if err := proveComplete(in, source, t, now, a); err != nil {
		rec.Action(target.Name, "advance origin "+target.origin, "refused", err)
		return fmt.Errorf("recover %s from %s on %s: %w", in.Failed, source.Name, target.Name, err)
	}
	_, err = flushAndProgress(ctx, t.conn, target.origin, func(b *pgx.Batch) {
		b.Queue("BEGIN")
		b.Queue("SELECT pg_replication_origin_xact_setup($1::text::pg_lsn, now())", source.lsn.String())
		b.Queue("SELECT pg_current_xact_id()")
		b.Queue("COMMIT")
	})
	rec.Action(target.Name, fmt.Sprintf("advance origin %s from %s to %s", target.origin, now, source.lsn), "", err)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: advance origin: %w", in.Failed, source.Name, target.Name, err)
	}
	return nil
}

// flushAndProgress runs, in one round trip on conn, what before queues,
// then a flushed WAL record (pg_logical_emit_message(..., flush true):
// every commit before it is durable once it returns), then reads origin's
// progress.
func flushAndProgress(ctx context.Context, conn *pgx.Conn, origin string, before func(*pgx.Batch)) (recovery.LSN, error) {
	b := &pgx.Batch{}
	if before != nil {
		before(b)
	}
	b.Queue(pgnode.FlushSQL(pgversion.Of(conn.PgConn())))
	return pgnode.ProgressAfter(ctx, conn, b, origin)
}
