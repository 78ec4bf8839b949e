package reference

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// Reference is the harness's own slot-based recovery (DESIGN.md section 5)
// on stock PostgreSQL primitives: fence, progress, source choice, the
// stream of the source's recovery slot (never moved), origin-preserving
// last-update-wins apply, clean up, re-check.
type Reference struct {
	// beforeFence, when set (specs only), runs between the connect phase
	// and the fence: the moment a provisional plan has been made and its
	// stream started.
	beforeFence func(context.Context) error
}

func (Reference) Name() string { return "reference" }

func (ref Reference) Recover(ctx context.Context, in recovery.Input) (*recovery.Result, error) {
	rec := recovery.NewRecorder("reference", in)
	if err := in.SetDefaults(); err != nil {
		rec.Fail(err)
		return rec.Result()
	}
	runReference(ctx, in, rec, ref.beforeFence)
	return rec.Result()
}

// survivorState is what the reference strategy knows about one survivor.
type survivorState struct {
	recovery.Survivor
	conn   *pgx.Conn
	origin string       // this survivor's replication origin for the failed node
	lsn    recovery.LSN // its progress for that origin
	// lastLocal (pglogical; 0 when unknown) is where the last commit under
	// that origin ends in this survivor's own WAL, read after the fence.
	lastLocal recovery.LSN
	// stream is a replication connection to it, opening since the connect
	// phase in case it is the source.
	stream *pendingStream
	// preRead: origin and lsn were read before the fence (pglogical).
	preRead bool
	// fenceRead: lsn and lastLocal were read by the fence, once the apply
	// worker had let go of the origin.
	fenceRead bool
	// holdsOrigin: its session still holds origin after a replay into it
	// (closeTarget), for verify-progress to release.
	holdsOrigin bool
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

func runReference(ctx context.Context, in recovery.Input, rec *recovery.Recorder, beforeFence func(context.Context) error) {
	defer in.PauseKeeper()()
	cat, err := pgnode.CatalogFor(in.Flavor)
	if err != nil {
		rec.Fail(err)
		return
	}
	// On pglogical each survivor's progress is read with its session, so
	// that the stream of the likely source can start before the fence.
	// Spock's stream looks up xids on the source's session, which the
	// fence needs: it starts once the targets are open.
	r := &referenceRun{ctx: ctx, in: in, rec: rec, cat: cat, startEarly: in.Flavor != "spock",
		streams: make([]*pendingStream, len(in.Survivors))}
	defer r.cleanUp()
	_ = rec.Phase("connect", r.connect)
	r.marker = fmt.Sprintf("%s_%s_end_%d", in.DB, in.Failed, time.Now().UnixNano())
	if r.startEarly {
		r.early = startProvisional(ctx, in, rec, r.live, r.marker)
	}
	if beforeFence != nil {
		if err := beforeFence(ctx); err != nil {
			rec.Fail(fmt.Errorf("before the fence: %w", err))
			return
		}
	}
	// 1. Fence: no worker may hold the failed node's origin anywhere.
	var fenced []*survivorState
	_ = rec.Phase("fence", func() error {
		fenced = sideBySide(r.live, func(s *survivorState) error { return fence(ctx, in, cat, rec, s) }, rec)
		return nil
	})
	if len(fenced) == 0 {
		rec.Fail(fmt.Errorf("no survivor could be fenced: nothing recovered"))
		return
	}
	// 2. Progress per survivor for the failed origin, side by side.
	known := r.progress(fenced)
	before := map[string]recovery.LSN{}
	for _, s := range known {
		before[s.Name] = s.lsn
	}
	// 3. Source: the survivor that applied the most of the failed node.
	source, targets := plan(known)
	st := r.keepEarly(source, targets)
	if source == nil {
		return
	}
	if len(targets) == 0 {
		rec.Res.NothingToRecover = true
		rec.Note("every survivor had applied %s up to %s: nothing to recover", in.Failed, source.lsn)
	} else {
		r.recover(source, targets, st)
	}
	// Re-check: every survivor's progress for the failed origin is equal.
	_ = rec.Phase("verify-progress", func() error { r.verifyProgress(known, before); return nil })
}

// referenceRun is one run of the reference recovery: its connections and
// the stream started before the fence.
type referenceRun struct {
	ctx        context.Context
	in         recovery.Input
	rec        *recovery.Recorder
	cat        pgnode.Catalog
	startEarly bool
	marker     string
	// live are the survivors whose session opened, in the survivors'
	// order.
	live []*survivorState
	// streams: with each survivor's session, its replication connection
	// readies in the background (taken from the standby, or a login),
	// should it be the source: the login overlaps the fence instead of
	// lengthening the recovery.
	streams []*pendingStream
	// spare closes the replication connections of the survivors that are
	// not the source.
	spare sync.WaitGroup
	// early is the stream started before the fence (pglogical), on the
	// provisional source; nil once handed on or abandoned.
	early *sourceStream
}

// cleanUp closes every session and replication connection left.
func (r *referenceRun) cleanUp() {
	if r.early != nil {
		r.early.abandon()
	}
	for _, s := range r.live {
		s.conn.Close(context.WithoutCancel(r.ctx))
	}
	r.spare.Wait()
	// Those still pending (no source was chosen) go the same way.
	for _, p := range r.streams {
		p.discard(r.ctx, r.in.StepTimeout)
	}
}

// connect opens every survivor's session and readies its replication
// connection, side by side (on a busy machine a connection alone takes a
// good part of a second).
func (r *referenceRun) connect() error {
	conns := make([]*survivorState, len(r.in.Survivors))
	var wg sync.WaitGroup
	for i, sv := range r.in.Survivors {
		r.rec.Res.Survivors = append(r.rec.Res.Survivors, sv.Name)
		kept := r.in.TakeKept(sv.Name)
		r.streams[i] = startStream(r.ctx, r.in, r.rec, sv, kept)
		wg.Go(func() { conns[i] = r.connectOne(sv, kept, r.streams[i]) })
	}
	wg.Wait()
	for _, s := range conns {
		if s != nil {
			r.live = append(r.live, s)
		}
	}
	return nil
}

// connectOne opens sv's session (the one kept ahead, or a login) and on
// pglogical reads its progress with it; nil when it failed (recorded).
func (r *referenceRun) connectOne(sv recovery.Survivor, kept *recovery.Kept, stream *pendingStream) *survivorState {
	s := &survivorState{Survivor: sv, stream: stream}
	var first func(context.Context, *pgx.Conn) error
	if r.startEarly {
		first = func(ctx context.Context, conn *pgx.Conn) error {
			err := readEarlyProgress(ctx, r.in, r.cat, r.rec, s, conn)
			s.preRead = err == nil
			return err
		}
	}
	conn, err := sessionOf(r.ctx, r.in, r.rec, sv, kept, first)
	if err != nil {
		r.rec.Fail(fmt.Errorf("connect to survivor %s: %w", sv.Name, err))
		return nil
	}
	s.conn = conn
	return s
}

// progress reads every fenced survivor's progress, side by side.
func (r *referenceRun) progress(fenced []*survivorState) []*survivorState {
	var known []*survivorState
	_ = r.rec.Phase("progress", func() error {
		known = sideBySide(fenced, func(s *survivorState) error {
			if err := readProgress(r.ctx, r.in, r.rec, s); err != nil {
				return fmt.Errorf("progress step on %s: %w", s.Name, err)
			}
			return nil
		}, r.rec)
		return nil
	})
	return known
}

// keepEarly returns the stream started before the fence when it serves
// the final plan (reusable), else abandons it (nil); every other
// survivor's replication connection is closed meanwhile (and the
// source's too when there is nothing to recover).
func (r *referenceRun) keepEarly(source *survivorState, targets []*survivorState) *sourceStream {
	var st *sourceStream
	if r.early != nil {
		if recovery.Reusable(r.early.source == source, len(targets), position(lowest(targets)), r.early.after) {
			st = r.early
		} else {
			r.rec.Note("the stream started before the fence from %s does not serve the final plan: started again", r.early.source.Name)
			r.early.abandon()
		}
		r.early = nil
	}
	for _, p := range r.streams {
		if source == nil || len(targets) == 0 || p != source.stream {
			r.spare.Go(func() { p.discard(r.ctx, r.in.StepTimeout) })
		}
	}
	return st
}

// recover replays on targets from source (steps 4-7 for every target,
// from one stream of the source), st being the stream already started
// (or nil).
func (r *referenceRun) recover(source *survivorState, targets []*survivorState, st *sourceStream) {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = fmt.Sprintf("%s (at %s)", t.Name, t.lsn)
	}
	r.rec.Note("source %s (at %s) for %s", source.Name, source.lsn, strings.Join(names, ", "))
	if st == nil && r.startEarly {
		st = startSourceStream(r.ctx, r.in, r.rec, source, position(lowest(targets)), positions(targets), r.marker, nil)
	}
	_ = r.rec.Phase("recover", func() error {
		recoverFromSource(r.ctx, r.in, r.rec, source, targets, st, r.marker)
		return nil
	})
}

// verifyProgress reads every survivor's progress for the failed origin
// once more, side by side, records it beside the one read before, and
// fails the recovery when they differ.
func (r *referenceRun) verifyProgress(known []*survivorState, before map[string]recovery.LSN) {
	after := make([]recovery.LSN, len(known))
	read := make([]bool, len(known))
	var wg sync.WaitGroup
	for i, s := range known {
		wg.Go(func() {
			lsn, err := finalProgress(r.ctx, s)
			if err != nil {
				r.rec.Fail(fmt.Errorf("verify-progress step on %s: %w", s.Name, err))
				return
			}
			after[i], read[i] = lsn, true
		})
	}
	wg.Wait()
	var all []string
	first := -1
	differ := false
	for i, s := range known {
		if !read[i] {
			continue
		}
		r.rec.Res.Progress = append(r.rec.Res.Progress, recovery.Progress{Node: s.Name, Origin: s.origin, Before: before[s.Name].String(), After: after[i].String()})
		all = append(all, fmt.Sprintf("%s=%s", s.Name, after[i]))
		if first < 0 {
			first = i
		}
		differ = differ || after[i] != after[first]
	}
	if differ {
		r.rec.Fail(fmt.Errorf("verify-progress: survivors differ in progress for %s after recovery: %s", r.in.Failed, strings.Join(all, " ")))
	}
}

// finalProgress reads s's progress for the failed node's origin once the
// recovery is over, releasing the origin first where a replay left it held.
func finalProgress(ctx context.Context, s *survivorState) (recovery.LSN, error) {
	if !s.holdsOrigin {
		return pgnode.OriginProgress(ctx, s.conn, s.origin)
	}
	s.holdsOrigin = false
	b := &pgx.Batch{}
	b.Queue("SELECT pg_replication_origin_session_reset()")
	return pgnode.ProgressAfter(ctx, s.conn, b, s.origin)
}

// readEarlyProgress reads, with s's session conn and before the fence, its
// replication origin for the failed node and how far it applied it (one
// query): the provisional plan (startProvisional). A failure here only
// forgoes the early start (the fence and the progress step read them
// again and fail where it matters); the error is the query's, for
// sessionOf to tell whether the session answered.
func readEarlyProgress(ctx context.Context, in recovery.Input, cat pgnode.Catalog, rec *recovery.Recorder, s *survivorState, conn *pgx.Conn) error {
	origin, lsn, local, err := cat.OriginOf(ctx, conn, pgnode.SubscriptionName(s.Name, in.Failed))
	if err == nil {
		s.origin, s.lsn, s.lastLocal = origin, lsn, local
	}
	what := "progress of origin " + origin + " before the fence"
	if err != nil {
		what = "progress for " + in.Failed + " before the fence"
	}
	rec.Action(s.Name, what, lsn.String(), err)
	return err
}

// startProvisional starts the stream of the survivor that had applied the
// most of the failed node when the sessions opened, for the others, when
// every survivor's progress was read and one is behind: see sourceStream.
func startProvisional(ctx context.Context, in recovery.Input, rec *recovery.Recorder, live []*survivorState, marker string) *sourceStream {
	if len(live) != len(in.Survivors) {
		return nil
	}
	for _, s := range live {
		if !s.preRead {
			return nil
		}
	}
	source, targets := plan(live)
	if source == nil || len(targets) == 0 {
		return nil
	}
	rec.Action(source.Name, "start the stream before the fence: provisional source", fmt.Sprintf("at %s; lowest target at %s", source.lsn, lowest(targets)), nil)
	return startSourceStream(ctx, in, rec, source, position(lowest(targets)), positions(targets), marker, nil)
}

// lowest is the lowest progress among states.
func lowest(states []*survivorState) recovery.LSN {
	low := recovery.LSN(math.MaxUint64)
	for _, s := range states {
		low = min(low, s.lsn)
	}
	return low
}

// positions lists the states' progress.
func positions(states []*survivorState) []recovery.LSN {
	out := make([]recovery.LSN, len(states))
	for i, s := range states {
		out[i] = s.lsn
	}
	return out
}

// sideBySide runs step on every survivor at once and returns, in order,
// those it succeeded on; each failure is recorded (it names the node).
func sideBySide(states []*survivorState, step func(*survivorState) error, rec *recovery.Recorder) []*survivorState {
	ok := make([]bool, len(states))
	var wg sync.WaitGroup
	for i, s := range states {
		wg.Go(func() {
			if err := step(s); err != nil {
				rec.Fail(err)
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
func readProgress(ctx context.Context, in recovery.Input, rec *recovery.Recorder, s *survivorState) error {
	if !s.fenceRead {
		var err error
		if s.lsn, s.lastLocal, err = pgnode.OriginPosition(ctx, s.conn, s.origin); err != nil {
			return err
		}
	}
	rec.Action(s.Name, "progress of origin "+s.origin, s.lsn.String(), nil)
	if in.Flavor != "spock" {
		return nil
	}
	sp, err := readSpockProgress(ctx, s.conn, in.Failed)
	rec.Action(s.Name, "spock.progress for "+in.Failed, sp.String(), err)
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
func fence(ctx context.Context, in recovery.Input, cat pgnode.Catalog, rec *recovery.Recorder, s *survivorState) error {
	sub := pgnode.SubscriptionName(s.Name, in.Failed)
	origin := s.origin
	if !s.preRead {
		var err error
		if origin, err = cat.OriginName(ctx, s.conn, sub); err != nil {
			return fmt.Errorf("fence step on %s: %w", s.Name, err)
		}
		s.origin = origin
	}
	_, err := s.conn.Exec(ctx, cat.FenceSQL(), sub)
	rec.Action(s.Name, "disable subscription "+sub, "", err)
	if err != nil {
		return fmt.Errorf("fence step on %s: disable %s: %w", s.Name, sub, err)
	}
	remote, local, read, err := pgnode.WaitWorkerGone(ctx, s.conn, s.Name, origin, in.StepTimeout)
	if err != nil {
		return fmt.Errorf("fence step on %s: %w", s.Name, err)
	}
	if read {
		s.lsn, s.lastLocal, s.fenceRead = remote, local, true
	}
	return nil
}

// recoverFromSource replays on every target what source holds of the
// failed node and that target lacks, from ONE stream of the source's
// recovery slot: decoded once, each transaction goes to every target
// whose progress is before it (one stream per target would decode the
// same WAL once per target on one source). A target that
// fails is drained and reported; the others go on. st is the source's
// stream, already decoding (pglogical), or nil (Spock: it starts once the
// targets are open).
func recoverFromSource(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source *survivorState, targets []*survivorState, st *sourceStream, marker string) {
	// Side by side: every target's replay session (each holds its
	// origin), and the end marker written on the source's own session
	// (idle until verify-progress; on Spock it also serves the xid
	// look-ups).
	m := writeEndMarker(ctx, rec, source, marker)
	// The source's session is free again (verify-progress) once the
	// marker is written.
	defer func() { <-m.done }()
	live := openTargets(ctx, in, rec, source, targets)
	if st == nil {
		// Spock: the stream's xid look-ups use the source's session too.
		<-m.done
	}
	failAll := func(step string, err error) {
		for _, rt := range live {
			rec.Fail(fmt.Errorf("recover %s from %s on %s: %s: %w", in.Failed, source.Name, rt.st.Name, step, err))
			_, _ = rt.conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
		}
	}
	if len(live) == 0 {
		if st != nil {
			st.abandon()
		}
		return
	}
	if st == nil && m.err != nil {
		failAll("end marker step", m.err)
		return
	}
	plan := streamPlan{targets: live, end: m.wait}
	if st == nil {
		var err error
		if st, err = startSpockStream(ctx, in, rec, source, live, marker); err != nil {
			failAll("failed node's origins on the source", err)
			return
		}
	} else {
		// On pglogical every commit of the failed node on the source, its
		// apply worker's and earlier replays', was made under the
		// source's origin for it and advanced its local_lsn, read after
		// the fence: the stream may end there (on Spock replays keep the
		// named origin where it is, so only the end marker is exact).
		plan.lastOfFailed = source.lastLocal
	}
	// 5-6. The stream, once; every target applies its part.
	st.handOver(plan)
	if !st.fed {
		step, err := st.step, st.err
		if step == "" {
			step = "stream step"
		}
		failAll(step, err)
		return
	}
	closeTargets(ctx, in, rec, source, live, st)
}

// endMarker is the end of the stream: a flushed logical message written
// on the source after the fence, so every transaction the source holds of
// the failed node comes before it. On pglogical the decoding rarely needs
// it (it ends at the source's last commit of the failed node), so the
// targets do not wait for it.
type endMarker struct {
	done chan struct{}
	// Set before done closes: where its record ends in the source's WAL.
	end recovery.LSN
	err error
}

// writeEndMarker writes marker on source's session in the background.
func writeEndMarker(ctx context.Context, rec *recovery.Recorder, source *survivorState, marker string) *endMarker {
	m := &endMarker{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		var end string
		m.err = source.conn.QueryRow(ctx, pgnode.FlushedMessageSQL(pgversion.Of(source.conn.PgConn()), "$1", "$2", true), recovery.EndMarkerPrefix, marker).Scan(&end)
		if m.err == nil {
			m.end, m.err = recovery.ParseLSN(end)
		}
		rec.Action(source.Name, "write end marker "+marker, end, m.err)
	}()
	return m
}

// wait waits for the marker and says where its record ends.
func (m *endMarker) wait() (recovery.LSN, error) {
	<-m.done
	if m.err != nil {
		return 0, fmt.Errorf("end marker step: %w", m.err)
	}
	return m.end, nil
}

// openTargets opens every target's replay session side by side and
// returns those that need a replay (a failure is recorded).
func openTargets(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source *survivorState, targets []*survivorState) []*replayTarget {
	open := make([]*replayTarget, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			rt, err := openTarget(ctx, in, rec, source, t)
			if err != nil {
				rec.Fail(err)
			}
			open[i] = rt
		})
	}
	wg.Wait()
	var live []*replayTarget
	for _, rt := range open {
		if rt != nil {
			live = append(live, rt)
		}
	}
	return live
}

// startSpockStream starts the stream on Spock, once the targets are open:
// the failed node's transactions are found by their commit-timestamp
// origin, looked up on the source's session.
func startSpockStream(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source *survivorState, live []*replayTarget, marker string) (*sourceStream, error) {
	origins, err := pgnode.FailedOriginsOn(ctx, source.conn, in.Failed, source.origin)
	if err != nil {
		return nil, err
	}
	after := position(math.MaxUint64)
	var froms []recovery.LSN
	for _, rt := range live {
		after = min(after, rt.fromPos)
		froms = append(froms, rt.from)
	}
	return startSourceStream(ctx, in, rec, source, after, froms, marker,
		&spockStream{ctx: ctx, origins: origins, xids: pgnode.NewXIDOrigins(source.conn)}), nil
}

// closeTargets records the stream and closes every target's replay side
// by side (closeTarget).
func closeTargets(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source *survivorState, live []*replayTarget, st *sourceStream) {
	rec.Streamed(source.Name, st.slot, st.start)
	if st.a.stats.endedAt != 0 {
		rec.Action(source.Name, "stream of "+st.slot+" ended past the last commit of "+in.Failed,
			fmt.Sprintf("at %s (that commit ends at %s)", st.a.stats.endedAt, st.a.lastOfFailed), nil)
	}
	var wg sync.WaitGroup
	for _, rt := range live {
		wg.Go(func() {
			if err := closeTarget(ctx, in, rec, source, rt, st.a, st.err); err != nil {
				rec.Fail(err)
			}
		})
	}
	wg.Wait()
}

// covered tells whether the stream of a, as far as it went, provably
// holds every transaction of the failed node the source has after rt's
// position (covers).
func covered(a *assembler, rt *replayTarget) bool {
	return recovery.Covers(a.proof(), rt.fromPos, rt.from)
}

// sessionOf is sv's session: the one kept open ahead when it still
// answers, else a new login. first, when not nil, is the session's first
// query, run on the session returned: on the kept one it doubles as the
// check that the session answers (pgx closes a connection whose query
// failed for want of an answer), in place of a ping; its own outcome is
// first's to record.
func sessionOf(ctx context.Context, in recovery.Input, rec *recovery.Recorder, sv recovery.Survivor, kept *recovery.Kept, first func(context.Context, *pgx.Conn) error) (*pgx.Conn, error) {
	if kept != nil {
		probe := first
		if probe == nil {
			probe = func(ctx context.Context, conn *pgx.Conn) error { return conn.Ping(ctx) }
		}
		pctx, cancel := context.WithTimeout(ctx, in.StepTimeout)
		err := probe(pctx, kept.Session)
		cancel()
		// A failed query closes a session that no longer answers.
		if err == nil || !kept.Session.IsClosed() {
			return kept.Session, nil
		}
		kept.Session.Close(context.WithoutCancel(ctx))
		rec.Action(sv.Name, "session kept open ahead no longer answers: log in again", "", err)
	}
	conn, err := pgnode.ConnectWithTimeout(ctx, sv.DSN, in.StepTimeout)
	if err != nil {
		return nil, err
	}
	if first != nil {
		fctx, cancel := context.WithTimeout(ctx, in.StepTimeout)
		defer cancel()
		_ = first(fctx, conn) // recorded by first; a session that fails it fails the next step
	}
	return conn, nil
}

// readSpockProgress reads a survivor's Spock progress for the failed node.
func readSpockProgress(ctx context.Context, conn *pgx.Conn, failed string) (*spockProgress, error) {
	id, err := pgnode.SpockNodeID(ctx, conn, failed)
	if err != nil {
		return nil, err
	}
	ts, known, err := pgnode.SpockAppliedUpTo(ctx, conn, id)
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
