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
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/harness"
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
	// lastLocal (pglogical; 0 when unknown) is where the last commit under
	// that origin ends in this survivor's own WAL, read after the fence.
	lastLocal LSN
	// stream is a replication connection to it, opening since the connect
	// phase in case it is the source; repl is that connection once the
	// source took it (or opened another).
	stream *pendingStream
	repl   *pgconn.PgConn
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
	// With each survivor's session, a replication connection opens in
	// the background and copies the survivor's slot for the stream, should
	// it be the source: login and copy overlap the fence instead of
	// lengthening the recovery.
	streams := make([]*pendingStream, len(in.Survivors))
	// spare drops the clones of the survivors that are not the source.
	var spare sync.WaitGroup
	defer func() {
		for _, s := range live {
			s.conn.Close(context.WithoutCancel(ctx))
			if s.repl != nil {
				s.repl.Close(context.WithoutCancel(ctx))
			}
		}
		spare.Wait()
		// Those still pending (no source was chosen) go the same way.
		for _, p := range streams {
			p.discard(ctx, rec, in.StepTimeout)
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
			streams[i] = startStream(ctx, in, rec, sv)
			wg.Go(func() {
				conn, err := connectWithTimeout(ctx, sv.DSN, in.StepTimeout)
				if err != nil {
					rec.fail(fmt.Errorf("connect to survivor %s: %w", sv.Name, err))
					return
				}
				conns[i] = &survivorState{Survivor: sv, conn: conn, stream: streams[i]}
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
		fenced = sideBySide(live, func(s *survivorState) error { return fence(ctx, in, cat, rec, s) }, rec)
		return nil
	})
	if len(fenced) == 0 {
		rec.fail(fmt.Errorf("no survivor could be fenced: nothing recovered"))
		return
	}

	// 2. Progress per survivor for the failed origin, side by side.
	var known []*survivorState
	_ = rec.phase("progress", func() error {
		known = sideBySide(fenced, func(s *survivorState) error {
			if err := readProgress(ctx, in, rec, s); err != nil {
				return fmt.Errorf("progress step on %s: %w", s.Name, err)
			}
			return nil
		}, rec)
		return nil
	})
	before := map[string]LSN{}
	for _, s := range known {
		before[s.Name] = s.lsn
	}

	// 3. Source: the survivor that applied the most of the failed node.
	// Every other survivor's clone is dropped meanwhile (and the source's
	// too when there is nothing to recover).
	source, targets := plan(known)
	for _, p := range streams {
		if source == nil || len(targets) == 0 || p != source.stream {
			spare.Go(func() { p.discard(ctx, rec, in.StepTimeout) })
		}
	}
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

// sideBySide runs step on every survivor at once and returns, in order,
// those it succeeded on; each failure is recorded (it names the node).
func sideBySide(states []*survivorState, step func(*survivorState) error, rec *recorder) []*survivorState {
	ok := make([]bool, len(states))
	var wg sync.WaitGroup
	for i, s := range states {
		wg.Go(func() {
			if err := step(s); err != nil {
				rec.fail(err)
				return
			}
			ok[i] = true
		})
	}
	wg.Wait()
	var out []*survivorState
	for i, s := range states {
		if ok[i] {
			out = append(out, s)
		}
	}
	return out
}

// readProgress reads, after the fence, how far s applied the failed node:
// its origin's remote_lsn, on pglogical also where the last commit under
// that origin ends in s's WAL (the stream of s's slot can end there when s
// is the source: lastOfFailed), and on Spock its spock.progress row.
func readProgress(ctx context.Context, in Input, rec *recorder, s *survivorState) error {
	if in.Flavor != "spock" {
		var err error
		s.lsn, s.lastLocal, err = originPosition(ctx, s.conn, s.origin)
		if err != nil {
			return err
		}
		rec.action(s.Name, "progress of origin "+s.origin, s.lsn.String(), nil)
		return nil
	}
	lsn, err := originProgress(ctx, s.conn, s.origin)
	if err != nil {
		return err
	}
	s.lsn = lsn
	rec.action(s.Name, "progress of origin "+s.origin, lsn.String(), nil)
	sp, err := readSpockProgress(ctx, s.conn, in.Failed)
	rec.action(s.Name, "spock.progress for "+in.Failed, sp.String(), err)
	if err != nil {
		return err
	}
	s.spock = sp
	return nil
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
	// Side by side: every target's replay session (each holds its
	// origin), and the clone, copied on the replication connection that
	// will stream it, with its end marker written on the source's own
	// session (idle until verify-progress; on Spock it also serves the
	// xid look-ups).
	open := make([]*replayTarget, len(targets))
	var cl clone
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
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	wg.Go(func() { cl = takeClone(ctx, in, rec, source) })
	wg.Wait()
	// The clone is temporary: it goes with its session, which closes once
	// streamed (or here, whatever happened); then it is seen gone.
	release := sync.OnceFunc(func() {
		if source.repl != nil {
			source.repl.Close(context.WithoutCancel(ctx))
		}
		if !cl.made {
			return
		}
		err := awaitCloneGone(context.WithoutCancel(ctx), source.conn, cl.name, in.StepTimeout)
		rec.action(source.Name, "temporary slot "+cl.name+" gone with its session", "", err)
		if err != nil {
			rec.fail(fmt.Errorf("recover %s from %s on %s: drop clone step: %w", in.Failed, source.Name, strings.Join(names, ","), err))
			return
		}
		rec.cloneRemoved(cl.index)
	})
	defer release()

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
	failAll := func(step string, err error) {
		for _, rt := range live {
			rec.fail(fmt.Errorf("recover %s from %s on %s: %s: %w", in.Failed, source.Name, rt.st.Name, step, err))
			_, _ = rt.conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
		}
	}
	if cl.err != nil {
		failAll(cl.step, cl.err)
		return
	}

	// The clone starts where the keeper's samples let it: as close to the
	// oldest transaction a target lacks as the samples go.
	var froms []LSN
	for _, rt := range live {
		froms = append(froms, rt.from)
	}
	if smp, ok := cloneStart(cl.start, source.Samples, froms); ok {
		start, err := advanceClone(ctx, source.repl, cl.name, smp.Local)
		rec.action(source.Name, fmt.Sprintf("advance %s to the keeper's sample (origin LSN %s, local %s): at or below every target's position", cl.name, smp.Origin, smp.Local),
			fmt.Sprintf("confirmed_flush %s", start), err)
		if err != nil {
			failAll("advance clone", err)
			return
		}
		cl.start = start
	}

	// 5-6. Stream the clone once; every target applies its part.
	a := newAssembler(source.origin, after, cl.name)
	a.start = cl.start
	if source.spock != nil {
		origins, err := failedOriginsOn(ctx, source.conn, in.Failed, source.origin)
		if err != nil {
			failAll("failed node's origins on the source", err)
			return
		}
		a.spock = &spockStream{ctx: ctx, origins: origins, xids: newXIDOrigins(source.conn)}
	} else {
		// On pglogical every commit of the failed node on the source, its
		// apply worker's and earlier replays', was made under the
		// source's origin for it and advanced its local_lsn, read after
		// the fence: the stream may end there (on Spock replays keep the
		// named origin where it is, so only the end marker is exact).
		a.lastOfFailed = source.lastLocal
	}
	a.stopEarly = func() bool {
		for _, rt := range live {
			if rt.gap == nil && !covered(a, rt) {
				return false
			}
		}
		return true
	}
	rec.cloneStreamed(cl.index)
	streamErr := streamToTargets(ctx, source.repl, cl.name, a, live, in.StepTimeout)
	if a.stats.endedAt != 0 {
		rec.action(source.Name, "stream of "+cl.name+" ended past the last commit of "+in.Failed,
			fmt.Sprintf("at %s (that commit ends at %s)", a.stats.endedAt, a.lastOfFailed), nil)
	}
	// The clone is done with: it is seen gone while the targets finish.
	wg.Go(release)
	for _, rt := range live {
		wg.Go(func() {
			if err := closeTarget(ctx, in, rec, source, rt, a, streamErr); err != nil {
				rec.fail(err)
			}
		})
	}
	wg.Wait()
}

// clone is the source's slot clone for one recovery, and where it starts.
type clone struct {
	name  string
	made  bool // the copy exists (and must be seen gone)
	index int  // in the Result's Clones
	start LSN  // its confirmed_flush: the stream sends nothing before
	// step and err name the first step that failed.
	step string
	err  error
}

// takeClone readies the source's clone of its recovery slot for the
// failed node (step 4, once for every target): the TEMPORARY clone copied
// on the source's replication connection while the fence ran (or, if that
// failed, copied now), on the session that streams it. The server drops
// it when that session ends, so no clone outlives a recovery, even a
// killed one, and the copy skips the slot's disk writes. Then it writes
// the end marker.
func takeClone(ctx context.Context, in Input, rec *recorder, source *survivorState) clone {
	var cl clone
	source.repl, cl = source.stream.take()
	if source.repl == nil {
		var via string
		var err error
		source.repl, via, err = openStream(ctx, in, source.Survivor)
		rec.action(source.Name, "open the replication connection for the stream, again", via, err)
		if err != nil {
			return clone{step: "stream step", err: err}
		}
	}
	if !cl.made {
		if cl = copyClone(ctx, in, rec, source.Name, source.repl); cl.err != nil {
			return cl
		}
	}
	// The end of the stream: a flushed logical message written after the
	// fence, so every transaction the source holds of the failed node
	// comes before it.
	var end string
	err := source.conn.QueryRow(ctx, "SELECT pg_logical_emit_message(false, $1, $2, true)::text", endMarkerPrefix, cl.name).Scan(&end)
	rec.action(source.Name, "write end marker "+cl.name, end, err)
	if err != nil {
		cl.step, cl.err = "end marker step", err
	}
	return cl
}

// copyClone copies node's recovery slot for the failed node to a
// TEMPORARY slot owned by the replication session repl, and reads where
// the copy starts, in one round trip.
func copyClone(ctx context.Context, in Input, rec *recorder, node string, repl *pgconn.PgConn) clone {
	slot := RecoverySlotName(in.DB, node, in.Failed)
	cl := clone{name: CloneSlotName(in.DB, node, in.Failed, time.Now())}
	// A floor message is a proof only for a stream that starts at or
	// before the position it vouches for: the start is read from the
	// copy. Decoding begins at restart_lsn (nothing is sent before the
	// start).
	q := fmt.Sprintf("SELECT pg_copy_logical_replication_slot(%[1]s, %[2]s, true); SELECT confirmed_flush_lsn::text, restart_lsn::text FROM pg_replication_slots WHERE slot_name = %[2]s",
		quoteLiteral(slot), quoteLiteral(cl.name))
	res, err := repl.Exec(ctx, q).ReadAll()
	rec.action(node, fmt.Sprintf("copy slot %s to temporary %s", slot, cl.name), "", err)
	if err != nil {
		cl.step, cl.err = "clone step", err
		return cl
	}
	cl.made, cl.index = true, rec.clone(node, cl.name)
	var start, restart string
	if len(res) == 2 && len(res[1].Rows) == 1 && len(res[1].Rows[0]) == 2 {
		start, restart = string(res[1].Rows[0][0]), string(res[1].Rows[0][1])
		cl.start, err = ParseLSN(start)
	} else {
		err = fmt.Errorf("slot %s not listed in pg_replication_slots after the copy", cl.name)
	}
	rec.action(node, "start of "+cl.name, fmt.Sprintf("confirmed_flush %s, restart_lsn %s", start, restart), err)
	if err != nil {
		cl.step, cl.err = "clone start", err
	}
	return cl
}

// advanceClone moves the temporary clone (held by the replication session
// repl) to to, by fast-forward decoding, and returns its confirmed_flush
// as read afterwards.
func advanceClone(ctx context.Context, repl *pgconn.PgConn, clone string, to LSN) (LSN, error) {
	q := fmt.Sprintf("SELECT pg_replication_slot_advance(%s, %s::pg_lsn); SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
		quoteLiteral(clone), quoteLiteral(to.String()), quoteLiteral(clone))
	res, err := repl.Exec(ctx, q).ReadAll()
	if err != nil {
		return 0, err
	}
	if len(res) != 2 || len(res[1].Rows) != 1 || len(res[1].Rows[0]) != 1 {
		return 0, fmt.Errorf("read confirmed_flush of %s after advancing it: no row", clone)
	}
	got, err := ParseLSN(string(res[1].Rows[0][0]))
	if err != nil {
		return 0, err
	}
	if got < to {
		return got, fmt.Errorf("advance %s to %s: it stands at %s", clone, to, got)
	}
	return got, nil
}

// quoteLiteral quotes s as an SQL string literal (the replication
// protocol takes simple queries only, without parameters).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// streamToTargets streams the clone and hands each transaction to every
// target whose progress is before it; the targets apply side by side with
// the decoding on the source. The stream stops early only when every
// target has failed. It returns the stream's error; apply errors stay on
// the targets.
func streamToTargets(ctx context.Context, repl *pgconn.PgConn, clone string, a *assembler, targets []*replayTarget, idle time.Duration) error {
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
	streamErr := streamSlot(sctx, repl, clone, a, idle, func(t *txn) error {
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

// awaitCloneGone waits until the temporary clone has left
// pg_replication_slots (its session was closed; the walsender lets go a
// moment later).
func awaitCloneGone(ctx context.Context, conn *pgx.Conn, clone string, timeout time.Duration) error {
	return harness.WaitForBackoff(ctx, "temporary slot "+clone+" to go with its session", timeout, pollFirst, pollMost,
		func(ctx context.Context) (bool, string, error) {
			var pid *int32
			err := conn.QueryRow(ctx, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", clone).Scan(&pid)
			if errors.Is(err, pgx.ErrNoRows) {
				return true, "", nil
			}
			if err != nil {
				return false, "", err
			}
			if pid == nil {
				return false, "still listed, no session", nil
			}
			return false, fmt.Sprintf("still held by PID %d", *pid), nil
		})
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
