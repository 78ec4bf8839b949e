package recovery

import (
	"context"
	"errors"
	"fmt"
	"math"
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
	// spock: the failed node's node_id and the origin commit timestamp of
	// its last transaction this survivor applied (spock.progress).
	spock *spockProgress
}

// spockProgress is a survivor's Spock-side progress for the failed node.
type spockProgress struct {
	failedID  uint32
	appliedTS time.Time
	known     bool // spock.progress had a row
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
	// Connections and fences go to every survivor side by side (on a busy
	// machine a connection alone takes a good part of a second); the
	// lists keep the survivors' order.
	_ = rec.phase("connect", func() error {
		conns := make([]*survivorState, len(in.Survivors))
		var wg sync.WaitGroup
		for i, sv := range in.Survivors {
			rec.res.Survivors = append(rec.res.Survivors, sv.Name)
			wg.Go(func() {
				conn, err := connectWithTimeout(ctx, sv.DSN, in.StepTimeout)
				if err != nil {
					rec.fail(fmt.Errorf("connect to survivor %s: %w", sv.Name, err))
					return
				}
				conns[i] = &survivorState{Survivor: sv, conn: conn}
			})
		}
		wg.Wait()
		for _, s := range conns {
			if s != nil {
				live = append(live, s)
			}
		}
		return nil
	})

	// 1. Fence: no worker may hold the failed node's origin anywhere.
	var fenced []*survivorState
	_ = rec.phase("fence", func() error {
		ok := make([]bool, len(live))
		var wg sync.WaitGroup
		for i, s := range live {
			wg.Go(func() {
				if err := fence(ctx, in, cat, rec, s); err != nil {
					rec.fail(err)
					return
				}
				ok[i] = true
			})
		}
		wg.Wait()
		for i, s := range live {
			if ok[i] {
				fenced = append(fenced, s)
			}
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
			if in.Flavor == "spock" {
				sp, err := readSpockProgress(ctx, s.conn, in.Failed)
				rec.action(s.Name, "spock.progress for "+in.Failed, sp.String(), err)
				if err != nil {
					rec.fail(fmt.Errorf("progress step on %s: %w", s.Name, err))
					continue
				}
				s.spock = sp
			}
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
		// 4-7 for every target, from one stream of the source.
		_ = rec.phase("recover", func() error {
			recoverFromSource(ctx, in, cat, rec, source, targets)
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

// recoverFromSource replays on every target what source holds of the
// failed node and that target lacks, from ONE clone of the source's
// recovery slot: the stream is decoded once and each transaction goes to
// every target whose progress is before it (with three targets, three
// clones decoded the same WAL three times on one source). A target that
// fails is drained and reported; the others go on.
func recoverFromSource(ctx context.Context, in Input, cat catalog, rec *recorder, source *survivorState, targets []*survivorState) {
	// Open every target's replay session (each holds its origin).
	open := make([]*replayTarget, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			rt, err := openTarget(ctx, in, rec, source, t)
			if err != nil {
				rec.fail(err)
			}
			open[i] = rt
		})
	}
	wg.Wait()
	var live []*replayTarget
	after := position(math.MaxUint64)
	for _, rt := range open {
		if rt != nil {
			live = append(live, rt)
			after = min(after, rt.fromPos)
		}
	}
	if len(live) == 0 {
		return
	}
	names := make([]string, len(live))
	for i, rt := range live {
		names[i] = rt.st.Name
	}
	failAll := func(step string, err error) {
		for _, rt := range live {
			rec.fail(fmt.Errorf("recover %s from %s on %s: %s: %w", in.Failed, source.Name, rt.st.Name, step, err))
			_, _ = rt.conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
			rt.conn.Close(context.WithoutCancel(ctx))
		}
	}

	// The source's own session (idle until verify-progress) serves the
	// clone, the end marker and, on Spock, the xid look-ups.
	sconn := source.conn
	sourceOrigin, err := cat.originName(ctx, sconn, subscriptionName(source.Name, in.Failed))
	if err != nil {
		failAll("source origin", err)
		return
	}

	// 4. Clone the source's recovery slot for the failed node, once.
	slot := RecoverySlotName(in.DB, source.Name, in.Failed)
	clone := CloneSlotName(in.DB, source.Name, in.Failed, cloneFor(names), time.Now())
	_, err = sconn.Exec(ctx, "SELECT pg_copy_logical_replication_slot($1, $2)", slot, clone)
	rec.action(source.Name, fmt.Sprintf("copy slot %s to %s for %s", slot, clone, strings.Join(names, ",")), "", err)
	if err != nil {
		failAll("clone step", err)
		return
	}
	ci := rec.clone(source.Name, clone)
	defer func() {
		if err := dropClone(context.WithoutCancel(ctx), sconn, clone, in.StepTimeout); err != nil {
			rec.fail(fmt.Errorf("recover %s from %s on %s: drop clone step: %w", in.Failed, source.Name, strings.Join(names, ","), err))
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
		failAll("end marker step", err)
		return
	}

	// 5-6. Stream the clone once; every target applies its part.
	a := newAssembler(sourceOrigin, after, clone)
	// Where the clone starts: a floor message is a proof only for a
	// stream that starts at or before the position it vouches for.
	var start, restart string
	err = sconn.QueryRow(ctx, "SELECT confirmed_flush_lsn::text, restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1", clone).Scan(&start, &restart)
	if err == nil {
		a.start, err = ParseLSN(start)
	}
	// Decoding begins at restart_lsn (nothing is sent before start).
	rec.action(source.Name, "start of "+clone, fmt.Sprintf("confirmed_flush %s, restart_lsn %s", start, restart), err)
	if err != nil {
		failAll("clone start", err)
		return
	}
	if source.spock != nil {
		origins, err := failedOriginsOn(ctx, sconn, in.Failed, sourceOrigin)
		if err != nil {
			failAll("failed node's origins on the source", err)
			return
		}
		a.spock = &spockStream{ctx: ctx, origins: origins, xids: newXIDOrigins(sconn)}
	}
	streamErr := streamToTargets(ctx, source.DSN, clone, a, live, in.StepTimeout)
	for _, rt := range live {
		wg.Go(func() {
			if err := closeTarget(ctx, in, rec, source, rt, a, streamErr); err != nil {
				rec.fail(err)
			}
		})
	}
	wg.Wait()
}

// cloneFor names a clone's targets: the one target, or how many.
func cloneFor(targets []string) string {
	if len(targets) == 1 {
		return targets[0]
	}
	return fmt.Sprintf("%dtargets", len(targets))
}

// streamToTargets streams the clone and hands each transaction to every
// target whose progress is before it; the targets apply side by side with
// the decoding on the source. The stream stops early only when every
// target has failed. It returns the stream's error; apply errors stay on
// the targets.
func streamToTargets(ctx context.Context, dsn, clone string, a *assembler, targets []*replayTarget, idle time.Duration) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Until a target fails or has applied everything, it counts as
	// applying; once none does, the stream has no one left to feed.
	var stillApplying, exited sync.WaitGroup
	stillApplying.Add(len(targets))
	for _, rt := range targets {
		rt.failOnce = sync.OnceFunc(stillApplying.Done)
		exited.Go(func() {
			_ = rt.applyAll(ctx, rt.failOnce)
			rt.failOnce()
		})
	}
	go func() { stillApplying.Wait(); cancel() }()
	send := func(rt *replayTarget, t *txn) error {
		select {
		case rt.txns <- t:
			return nil
		case <-sctx.Done():
			return sctx.Err()
		}
	}
	gap := func(rt *replayTarget, first position) {
		// The stream began after this target's position: what lies
		// between may not be in it, and replaying would advance the
		// target's progress over that gap.
		rt.gap = fmt.Errorf("the stream of the source's slot clone %s starts after the target's position for the failed node (%s): the first transaction of it offered is at %s, so those between are unaccounted for; nothing replayed, progress not advanced",
			clone, posString(rt, rt.fromPos), posString(rt, first))
		rt.held = nil
		rt.failOnce()
	}
	streamStart := time.Now()
	streamErr := streamSlot(sctx, dsn, clone, a, idle, func(t *txn) error {
		for _, rt := range targets {
			if t.pos <= rt.fromPos || rt.gap != nil {
				continue
			}
			if !covered(a, rt) {
				// Not proven yet: a floor message (written right after
				// the sample that placed the slot) may follow within a
				// few transactions; hold them until then.
				if len(rt.held) < maxHeld {
					rt.held = append(rt.held, t)
				} else {
					gap(rt, rt.held[0].pos)
				}
				continue
			}
			for _, h := range rt.held {
				if err := send(rt, h); err != nil {
					return err
				}
			}
			rt.held = nil
			if err := send(rt, t); err != nil {
				return err
			}
		}
		return nil
	})
	a.stats.streamed = time.Since(streamStart)
	for _, rt := range targets {
		if len(rt.held) == 0 || rt.gap != nil {
			continue
		}
		if streamErr != nil || !covered(a, rt) {
			gap(rt, rt.held[0].pos)
			continue
		}
		for _, h := range rt.held {
			if err := send(rt, h); err != nil && streamErr == nil {
				streamErr = err
			}
		}
		rt.held = nil
	}
	for _, rt := range targets {
		close(rt.txns)
	}
	exited.Wait()
	if errors.Is(streamErr, context.Canceled) && ctx.Err() == nil {
		streamErr = nil // stopped because every target failed
	}
	return streamErr
}

// maxHeld bounds the transactions held for one target until the stream
// proves it covers the target's position (see covered).
const maxHeld = 50000

// covered tells whether the stream, as far as it went, provably holds
// every transaction of the failed node the source has after rt's
// position: a transaction of the failed node at or before that position
// passed by (coversFrom), or a floor message valid from the stream's start
// placed the stream at or before the target's origin LSN.
func covered(a *assembler, rt *replayTarget) bool {
	return a.coversFrom(rt.fromPos) || (a.floorSet && rt.from >= a.floor)
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
		select {
		case <-ctx.Done():
			return fmt.Errorf("drop slot %s: %w (still busy: %v)", clone, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func connectWithTimeout(ctx context.Context, dsn string, timeout time.Duration) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pgx.Connect(cctx, dsn)
}

// readSpockProgress reads a survivor's Spock progress for the failed node.
func readSpockProgress(ctx context.Context, conn *pgx.Conn, failed string) (*spockProgress, error) {
	id, err := spockNodeID(ctx, conn, failed)
	if err != nil {
		return nil, err
	}
	ts, known, err := spockAppliedUpTo(ctx, conn, id)
	if err != nil {
		return nil, err
	}
	return &spockProgress{failedID: id, appliedTS: ts, known: known}, nil
}

func (p *spockProgress) String() string {
	if p == nil {
		return ""
	}
	if !p.known {
		return fmt.Sprintf("node_id %d, no row", p.failedID)
	}
	return fmt.Sprintf("node_id %d, remote_commit_ts %s", p.failedID, p.appliedTS.UTC().Format("15:04:05.000000"))
}
