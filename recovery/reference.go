package recovery

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reference is the harness's own slot-based recovery (DESIGN.md section 5)
// on stock PostgreSQL primitives: fence, progress, source choice, clone,
// stream, origin-preserving last-update-wins apply, clean up, re-check.
type Reference struct{}

func (Reference) Name() string { return "reference" }

func (Reference) Recover(ctx context.Context, in Input) (*Result, error) {
	rec := newRecorder("reference", in)
	if err := in.setDefaults(); err != nil {
		rec.fail(err)
		return rec.result()
	}
	runReference(ctx, in, rec)
	return rec.result()
}

// survivorState is what the reference strategy knows about one survivor.
type survivorState struct {
	Survivor
	conn   *pgx.Conn
	origin string // this survivor's replication origin for the failed node
	lsn    LSN    // its progress for that origin
}

func runReference(ctx context.Context, in Input, rec *recorder) {
	cat, err := catalogFor(in.Flavor)
	if err != nil {
		rec.fail(err)
		return
	}
	var live []*survivorState
	defer func() {
		for _, s := range live {
			s.conn.Close(context.WithoutCancel(ctx))
		}
	}()
	_ = rec.phase("connect", func() error {
		for _, sv := range in.Survivors {
			rec.res.Survivors = append(rec.res.Survivors, sv.Name)
			conn, err := connectWithTimeout(ctx, sv.DSN, in.StepTimeout)
			if err != nil {
				rec.fail(fmt.Errorf("connect to survivor %s: %w", sv.Name, err))
				continue
			}
			live = append(live, &survivorState{Survivor: sv, conn: conn})
		}
		return nil
	})

	// 1. Fence: no worker may hold the failed node's origin anywhere.
	var fenced []*survivorState
	_ = rec.phase("fence", func() error {
		for _, s := range live {
			if err := fence(ctx, in, cat, rec, s); err != nil {
				rec.fail(err)
				continue
			}
			fenced = append(fenced, s)
		}
		return nil
	})
	if len(fenced) == 0 {
		rec.fail(fmt.Errorf("no survivor could be fenced: nothing recovered"))
		return
	}

	// 2. Progress per survivor for the failed origin.
	var known []*survivorState
	_ = rec.phase("progress", func() error {
		for _, s := range fenced {
			lsn, err := originProgress(ctx, s.conn, s.origin)
			if err != nil {
				rec.fail(fmt.Errorf("progress step on %s: %w", s.Name, err))
				continue
			}
			s.lsn = lsn
			rec.action(s.Name, "progress of origin "+s.origin, lsn.String(), nil)
			known = append(known, s)
		}
		return nil
	})
	before := map[string]LSN{}
	for _, s := range known {
		before[s.Name] = s.lsn
	}

	// 3. Source: the survivor that applied the most of the failed node.
	source, targets := plan(known)
	if source == nil {
		return
	}
	if len(targets) == 0 {
		rec.res.NothingToRecover = true
		rec.note("every survivor had applied %s up to %s: nothing to recover", in.Failed, source.lsn)
	} else {
		names := make([]string, len(targets))
		for i, t := range targets {
			names[i] = fmt.Sprintf("%s (at %s)", t.Name, t.lsn)
		}
		rec.note("source %s (at %s) for %s", source.Name, source.lsn, strings.Join(names, ", "))
		// 4-7 per target, in parallel.
		_ = rec.phase("recover", func() error {
			var wg sync.WaitGroup
			for _, t := range targets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := recoverPair(ctx, in, cat, rec, source, t); err != nil {
						rec.fail(err)
					}
				}()
			}
			wg.Wait()
			return nil
		})
	}

	// Re-check: every survivor's progress for the failed origin is equal.
	_ = rec.phase("verify-progress", func() error {
		after := map[string]LSN{}
		var bad []string
		for _, s := range known {
			lsn, err := originProgress(ctx, s.conn, s.origin)
			if err != nil {
				rec.fail(fmt.Errorf("verify-progress step on %s: %w", s.Name, err))
				continue
			}
			after[s.Name] = lsn
			rec.res.Progress = append(rec.res.Progress, Progress{Node: s.Name, Origin: s.origin, Before: before[s.Name].String(), After: lsn.String()})
			bad = append(bad, fmt.Sprintf("%s=%s", s.Name, lsn))
		}
		first := after[known[0].Name]
		for _, lsn := range after {
			if lsn != first {
				rec.fail(fmt.Errorf("verify-progress: survivors differ in progress for %s after recovery: %s", in.Failed, strings.Join(bad, " ")))
				break
			}
		}
		return nil
	})
}

// plan picks the survivor with the highest progress as source (ties: the
// first by name) and every survivor behind it as a target.
func plan(known []*survivorState) (*survivorState, []*survivorState) {
	if len(known) == 0 {
		return nil, nil
	}
	sorted := append([]*survivorState(nil), known...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	source := sorted[0]
	for _, s := range sorted[1:] {
		if s.lsn > source.lsn {
			source = s
		}
	}
	var targets []*survivorState
	for _, s := range sorted {
		if s.lsn < source.lsn {
			targets = append(targets, s)
		}
	}
	return source, targets
}

// fence disables s's subscription from the failed node and waits until its
// apply worker has let go of the origin.
func fence(ctx context.Context, in Input, cat catalog, rec *recorder, s *survivorState) error {
	sub := subscriptionName(s.Name, in.Failed)
	origin, err := cat.originName(ctx, s.conn, sub)
	if err != nil {
		return fmt.Errorf("fence step on %s: %w", s.Name, err)
	}
	s.origin = origin
	_, err = s.conn.Exec(ctx, cat.fenceSQL(), sub)
	rec.action(s.Name, "disable subscription "+sub, "", err)
	if err != nil {
		return fmt.Errorf("fence step on %s: disable %s: %w", s.Name, sub, err)
	}
	if err := waitWorkerGone(ctx, s.conn, s.Name, origin, in.StepTimeout); err != nil {
		return fmt.Errorf("fence step on %s: %w", s.Name, err)
	}
	return nil
}

// recoverPair replays on target what source holds of the failed node and
// target lacks.
func recoverPair(ctx context.Context, in Input, cat catalog, rec *recorder, source, target *survivorState) error {
	start := time.Now()
	tconn, err := connectWithTimeout(ctx, target.DSN, in.StepTimeout)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: connect target: %w", in.Failed, source.Name, target.Name, err)
	}
	defer tconn.Close(context.WithoutCancel(ctx))
	// Commits are asynchronous for speed; each carries its origin progress,
	// so a crash loses data and progress together, and a final flush below
	// makes the whole replay durable before success is reported. The role
	// is the apply worker's: user triggers and foreign keys act as they do
	// for replicated changes.
	if _, err := tconn.Exec(ctx, fmt.Sprintf("SET synchronous_commit = off; SET session_replication_role = replica; SET statement_timeout = %d", in.StepTimeout.Milliseconds())); err != nil {
		return fmt.Errorf("recover %s from %s on %s: session settings: %w", in.Failed, source.Name, target.Name, err)
	}
	if err := acquireOrigin(ctx, tconn, target.Name, target.origin, in.StepTimeout); err != nil {
		return fmt.Errorf("recover %s from %s on %s: %w", in.Failed, source.Name, target.Name, err)
	}
	defer func() { _, _ = tconn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()") }()
	rec.action(target.Name, "set up replication origin "+target.origin+" for the replay session", "", nil)
	// Progress again, now that this session holds the origin: a concurrent
	// recovery may have advanced it meanwhile.
	from, err := originProgress(ctx, tconn, target.origin)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: %w", in.Failed, source.Name, target.Name, err)
	}
	if from >= source.lsn {
		rec.action(target.Name, "nothing to replay", fmt.Sprintf("progress %s already at or past source %s", from, source.lsn), nil)
		return nil
	}

	sconn, err := connectWithTimeout(ctx, source.DSN, in.StepTimeout)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: connect source: %w", in.Failed, source.Name, target.Name, err)
	}
	defer sconn.Close(context.WithoutCancel(ctx))
	sourceOrigin, err := cat.originName(ctx, sconn, subscriptionName(source.Name, in.Failed))
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: source origin: %w", in.Failed, source.Name, target.Name, err)
	}

	// 4. Clone the source's recovery slot for the failed node.
	slot := RecoverySlotName(in.DB, source.Name, in.Failed)
	clone := CloneSlotName(in.DB, source.Name, in.Failed, target.Name, time.Now())
	_, err = sconn.Exec(ctx, "SELECT pg_copy_logical_replication_slot($1, $2)", slot, clone)
	rec.action(source.Name, fmt.Sprintf("copy slot %s to %s", slot, clone), "", err)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: clone step: %w", in.Failed, source.Name, target.Name, err)
	}
	ci := rec.clone(source.Name, clone)
	defer func() {
		if err := dropClone(context.WithoutCancel(ctx), sconn, clone, in.StepTimeout); err != nil {
			rec.fail(fmt.Errorf("recover %s from %s on %s: drop clone step: %w", in.Failed, source.Name, target.Name, err))
			rec.action(source.Name, "drop slot "+clone, "", err)
			return
		}
		rec.action(source.Name, "drop slot "+clone, "", nil)
		rec.cloneRemoved(ci)
	}()
	// The end of the stream: a flushed logical message written after the
	// fence, so every transaction the source holds of the failed node
	// comes before it.
	var end string
	err = sconn.QueryRow(ctx, "SELECT pg_logical_emit_message(false, $1, $2, true)::text", endMarkerPrefix, clone).Scan(&end)
	rec.action(source.Name, "write end marker "+clone, end, err)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: end marker step: %w", in.Failed, source.Name, target.Name, err)
	}

	// 5-6. Stream the clone and replay on the target.
	a := newAssembler(sourceOrigin, from, clone)
	ap := newApplier(tconn, target.Name)
	streamErr, flushErr := streamAndApply(ctx, source.DSN, clone, a, ap, in.StepTimeout)
	p := Pair{Source: source.Name, Target: target.Name, Transactions: ap.txns, Rows: ap.rows, RowsSkipped: ap.skippedRows,
		FromLSN: from.String(), ToLSN: ap.last.String(), Duration: time.Since(start), ApplyDuration: ap.applying}
	rec.pair(p)
	rec.action(target.Name, fmt.Sprintf("replayed from %s", source.Name),
		fmt.Sprintf("%d transactions, %d rows (%d skipped); stream: %d txns decoded, %d of %s, %d already applied",
			ap.txns, ap.rows, ap.skippedRows, a.stats.transactions, a.stats.originTxns, in.Failed, a.stats.alreadyApplied), errors.Join(streamErr, flushErr))
	if err := errors.Join(streamErr, flushErr); err != nil {
		return fmt.Errorf("recover %s from %s on %s: replay step: %w", in.Failed, source.Name, target.Name, err)
	}

	// The target now holds every transaction of the failed node the source
	// holds, so its progress is the source's (also past trailing
	// transactions that touched only skipped tables). Advanced by an empty
	// origin transaction while this session still holds the origin, so no
	// concurrent recovery can slip in between.
	now, err := originProgress(ctx, tconn, target.origin)
	if err != nil {
		return fmt.Errorf("recover %s from %s on %s: %w", in.Failed, source.Name, target.Name, err)
	}
	if now < source.lsn {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("SELECT pg_replication_origin_xact_setup($1::text::pg_lsn, now())", source.lsn.String())
		b.Queue("SELECT pg_current_xact_id()")
		b.Queue("COMMIT")
		err := tconn.SendBatch(ctx, b).Close()
		rec.action(target.Name, fmt.Sprintf("advance origin %s from %s to %s", target.origin, now, source.lsn), "", err)
		if err != nil {
			return fmt.Errorf("recover %s from %s on %s: advance origin: %w", in.Failed, source.Name, target.Name, err)
		}
	}
	// Durable: one flushed WAL record after every replayed commit.
	if _, err := tconn.Exec(ctx, "SELECT pg_logical_emit_message(false, 'spockchaos_recovery_flush', '', true)"); err != nil {
		return fmt.Errorf("recover %s from %s on %s: flush WAL: %w", in.Failed, source.Name, target.Name, err)
	}
	return nil
}

// streamAndApply runs the stream and the replay side by side: decoding on
// the source overlaps applying on the target. An apply error stops the
// stream; a stream error is reported after what was received is applied.
func streamAndApply(ctx context.Context, dsn, clone string, a *assembler, ap *applier, idle time.Duration) (streamErr, applyErr error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	txns := make(chan *txn, 2*maxBatchTxns)
	go func() {
		defer close(txns)
		streamErr = streamSlot(sctx, dsn, clone, a, idle, func(t *txn) error {
			select {
			case txns <- t:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			}
		})
	}()
	for t := range txns {
		if applyErr != nil {
			continue // drain until the stream stops
		}
		if applyErr = ap.add(ctx, t); applyErr != nil {
			cancel()
			continue
		}
		// Send a good part of a batch early when the stream has nothing
		// more at hand, rather than wait for it with the target idle.
		if len(txns) == 0 && ap.batchTxns >= maxBatchTxns/4 {
			applyErr = ap.flush(ctx)
			if applyErr != nil {
				cancel()
			}
		}
	}
	if applyErr == nil {
		applyErr = ap.flush(ctx)
	} else if errors.Is(streamErr, context.Canceled) {
		streamErr = nil // stopped because the apply failed
	}
	return streamErr, applyErr
}

// dropClone drops a clone slot, retrying while the walsender that streamed
// it is still letting go.
func dropClone(ctx context.Context, conn *pgx.Conn, clone string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", clone)
		if err == nil {
			return nil
		}
		if busy, _ := originBusy(err); !busy || time.Now().After(deadline) {
			return fmt.Errorf("drop slot %s: %w", clone, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func connectWithTimeout(ctx context.Context, dsn string, timeout time.Duration) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pgx.Connect(cctx, dsn)
}
