package reference

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// sourceStream decodes the source's recovery slot for the failed node in
// the background and feeds the targets once they are handed to it
// (handOver). On pglogical it starts before the fence, on the provisional
// source (the survivor that had applied the most of the failed node when
// the sessions opened), peeking the slot up to the source's last commit
// of the failed node as read then (earlyEnd): the decoding overlaps the
// fence and the opening of the targets, and the targets apply what is
// already decoded instead of sharing the CPU with the decoding on a small
// machine. Until the targets are handed over, what it decodes waits in
// memory (at most maxEarly transactions, then decoding waits too).
//
// The slot itself is decoded, never a copy, and it never moves: a peek
// (peekSlot) does not move it, and the walsender's stream (streamSlot,
// only from a keeper sample far past the slot) reports as flushed only
// the position the slot already had, which the server ignores
// (LogicalConfirmReceivedLocation moves confirmed_flush only forward). A
// copy (pg_copy_logical_replication_slot, even TEMPORARY) writes the new
// slot's state to disk: seven fsyncs in CreateSlotOnDisk alone (slot.c,
// PostgreSQL 17.11), measured at 45-77 ms on the recovery's critical path
// under load on the 2-core machine's fuse-overlayfs. While a peek or the
// stream runs, the slot is held (active_pid): another recovery waits for
// it, and the Keeper's advance of it fails and is retried at its next
// round.
//
// Why starting early is safe: the decoding starts at the slot's position
// (proven by reading it around each peek; or a keeper sample at or below
// every target's position), ends at the source's last commit of the
// failed node read after the fence or at an end marker written after the
// fence, and keeps every transaction of the failed node placed after
// `after`, a lower bound of the targets' positions read before the fence.
// Positions only move forward, and a target found behind `after` once
// handed over (or a source that is not the final one) is never fed from
// it: the recovery decodes again instead (runReference) or fails that
// target.
type sourceStream struct {
	source *survivorState
	// after and froms are the positions it was started for: it keeps the
	// failed node's transactions past after, and it may start at a keeper
	// sample at or below every one of froms.
	after  position
	froms  []recovery.LSN
	marker string
	spock  *spockStream

	plan   chan streamPlan
	cancel context.CancelFunc
	done   chan struct{}

	// slot is the recovery slot streamed.
	slot string
	// earlyEnd (pglogical; 0: none) is where the source's last commit of
	// the failed node ended when the stream started: it decodes that far
	// before the targets are handed over.
	earlyEnd recovery.LSN

	// Set by the stream before done closes.
	a *assembler
	// start is where the stream began (the slot's confirmed_flush, or a
	// keeper sample past it).
	start recovery.LSN
	// step names what failed before the stream began (with err); when it
	// is empty, err is the stream's own error and the targets were fed.
	step string
	err  error
	// fed: the targets were handed over and fed (their appliers ran).
	fed bool
}

// streamPlan is what the stream needs from the recovery once the targets
// are open: the targets, and on pglogical where the source's last commit
// of the failed node ends (assembler.lastOfFailed).
type streamPlan struct {
	targets      []*replayTarget
	lastOfFailed recovery.LSN
	// end waits for the end marker and says where its record ends in
	// the source's WAL.
	end func() (recovery.LSN, error)
}

// startSourceStream starts the stream of source's recovery slot for the
// failed node for targets at or past after (froms: their positions as
// origin LSNs), on source's pending replication connection (or a new one).
func startSourceStream(ctx context.Context, in recovery.Input, rec *recovery.Recorder, source *survivorState, after position, froms []recovery.LSN, marker string, spock *spockStream) *sourceStream {
	sctx, cancel := context.WithCancel(ctx)
	st := &sourceStream{source: source, after: after, froms: froms, marker: marker, spock: spock,
		slot: recovery.RecoverySlotName(in.DB, source.Name, in.Failed),
		plan: make(chan streamPlan, 1), cancel: cancel, done: make(chan struct{})}
	if spock == nil {
		st.earlyEnd = source.lastLocal
	}
	go func() {
		defer close(st.done)
		st.run(sctx, in, rec)
	}()
	return st
}

// handOver gives the stream its targets and waits until it has ended and
// every target has applied what it was given.
func (st *sourceStream) handOver(p streamPlan) {
	st.plan <- p
	<-st.done
}

// abandon stops a stream that will feed no target.
func (st *sourceStream) abandon() {
	st.cancel()
	<-st.done
}

func (st *sourceStream) run(ctx context.Context, in recovery.Input, rec *recovery.Recorder) {
	source := st.source
	pending := source.stream
	repl := pending.take()
	// The slot's position was read when the connection was readied,
	// unless that failed or the connection is opened again here.
	confirmed, known := pending.confirmed, repl != nil && pending.confirmed != 0
	if repl == nil {
		var via string
		var err error
		repl, via, err = openStream(ctx, in, source.Survivor)
		rec.Action(source.Name, "open the replication connection for the stream, again", via, err)
		if err != nil {
			st.step, st.err = "stream step", err
			return
		}
	}
	// The slot is released, unmoved, with this session.
	defer repl.Close(context.WithoutCancel(ctx))
	var err error
	if !known {
		confirmed, err = slotPosition(ctx, repl, source.Name, st.slot)
	}
	rec.Action(source.Name, "position of recovery slot "+st.slot, "confirmed_flush "+confirmed.String(), err)
	if err != nil {
		st.step, st.err = "slot step", err
		return
	}
	st.a = newAssembler(source.origin, st.after, st.marker)
	st.a.spock = st.spock
	st.err = st.feed(ctx, in, rec, repl, confirmed)
}

// streamSkipMin is how far past the slot's position a keeper sample must
// let the decoding start for the recovery to stream the slot through the
// walsender from there rather than peek it from the slot's position: the
// walsender passes over what lies before the sample without sending it,
// but it sends what follows five times slower than a peek decodes (see
// peekSlot), so skipping pays only for a long stretch of WAL. A variable
// so that a spec can take the walsender's path.
var streamSkipMin = recovery.LSN(4 << 20)

// maxEarly bounds the transactions decoded before the targets are handed
// over that wait in memory; past it the decoding waits for the targets.
const maxEarly = 20000

// feed decodes the slot and hands each transaction to every target whose
// progress is before it; the targets apply side by side with the
// decoding. Decoding peeks the slot from its position (peekSlot): on
// pglogical first up to the end of the source's last commit of the failed
// node as read when the stream started (earlyEnd), before the targets are
// handed over, what it decodes waiting in memory; then, once they are,
// on from there (resume) up to that end as read after the fence, and to
// the end marker if not every target is proven covered there. When a
// keeper sample lets it start far past the slot's position
// (streamSkipMin), it streams through the walsender from there instead,
// once the targets are handed over. The decoding stops early only when
// every target has failed. It returns the decoding's error; apply errors
// stay on the targets. What each transaction becomes for each target is
// the router's decision; feed only does the I/O.
func (st *sourceStream) feed(ctx context.Context, in recovery.Input, rec *recovery.Recorder, repl *pgconn.PgConn, confirmed recovery.LSN) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &feeding{st: st, ctx: ctx, sctx: sctx, cancel: cancel}
	// A peek sets a.start to where it found the slot (peekSlot).
	if smp, ok := skipTo(confirmed, st.source.Samples, st.froms); ok {
		st.a.start = smp.Local
		rec.Action(st.source.Name, fmt.Sprintf("stream %s from the keeper's sample (origin LSN %s, local %s): at or below every target's position", st.slot, smp.Origin, smp.Local), "", nil)
		f.walsender = true
	}
	decodeStart := time.Now()
	decodeErr := f.decode(in, repl, confirmed)
	st.a.stats.streamed = time.Since(decodeStart)
	st.start = st.a.start
	if !st.fed {
		// The decoding failed before the targets were handed over: they
		// are fed nothing, and told so.
		if err := f.handedOver(); err != nil {
			return errors.Join(decodeErr, err)
		}
	}
	if err := f.apply(f.route.finish(st.a.proof(), decodeErr == nil)); err != nil && decodeErr == nil {
		decodeErr = err
	}
	for _, rt := range f.targets {
		close(rt.txns)
	}
	f.exited.Wait()
	if errors.Is(decodeErr, context.Canceled) && ctx.Err() == nil {
		decodeErr = nil // stopped because every target failed
	}
	return decodeErr
}

// feeding is one feed's I/O state: the targets and their appliers, the
// router deciding for them, and what was decoded before they came.
type feeding struct {
	st *sourceStream
	// ctx is the recovery's; sctx ends too once no target applies.
	ctx, sctx context.Context
	cancel    context.CancelFunc
	walsender bool // stream through the walsender from a keeper sample

	plan    streamPlan
	targets []*replayTarget
	route   *router
	// pending is what is decoded before the targets are handed over.
	pending []*txn
	// Until a target fails or has applied everything, it counts as
	// applying; once none does, the decoding has no one left to feed.
	stillApplying, exited sync.WaitGroup

	r        resume
	peekedTo recovery.LSN
}

// install takes the plan: starts every target's applier and routes to
// them from now on.
func (f *feeding) install(p streamPlan) error {
	st, a := f.st, f.st.a
	f.plan, st.fed, f.targets = p, true, p.targets
	a.lastOfFailed = p.lastOfFailed
	routes := make([]routeTarget, len(p.targets))
	for i, rt := range p.targets {
		routes[i] = routeTarget{from: rt.from, fromPos: rt.fromPos}
	}
	var cuts routing
	f.route, cuts = newRouter(st.after, routes)
	a.stopEarly = func() bool { return f.route.settled(a.proof()) }
	f.stillApplying.Add(len(f.targets))
	for _, rt := range f.targets {
		rt.failOnce = sync.OnceFunc(f.stillApplying.Done)
		f.exited.Go(func() {
			_ = rt.applyAll(f.ctx, rt.failOnce)
			rt.failOnce()
		})
	}
	go func() { f.stillApplying.Wait(); f.cancel() }()
	return f.apply(cuts)
}

// apply carries out the router's decision: cut targets off (they are
// told why, and count as failed), send the rest.
func (f *feeding) apply(r routing) error {
	for _, c := range r.cut {
		rt := f.targets[c.target]
		rt.gap = f.gapError(rt, c)
		rt.failOnce()
	}
	for _, d := range r.send {
		for _, x := range d.txns {
			select {
			case f.targets[d.target].txns <- x:
			case <-f.sctx.Done():
				return f.sctx.Err()
			}
		}
	}
	return nil
}

// gapError says why target rt was cut off.
func (f *feeding) gapError(rt *replayTarget, c cutOff) error {
	st := f.st
	if c.behind {
		// Cannot happen while positions only move forward; were it to,
		// this stream dropped what the target may lack.
		return fmt.Errorf("the target's position for the failed node (%s) is behind the one the stream of %s was started for (%s): nothing replayed, progress not advanced",
			posString(rt, rt.fromPos), st.slot, posString(rt, st.after))
	}
	// The stream began after this target's position: what lies between
	// may not be in it, and replaying would advance the target's
	// progress over that gap.
	return fmt.Errorf("the stream of the source's recovery slot %s (from %s) starts after the target's position for the failed node (%s): the first transaction of it offered is at %s, so those between are unaccounted for; nothing replayed, progress not advanced",
		st.slot, st.a.start, posString(rt, rt.fromPos), posString(rt, c.first))
}

// dispatch routes one decoded transaction to the targets.
func (f *feeding) dispatch(x *txn) error {
	return f.apply(f.route.route(x, f.st.a.proof()))
}

// handedOver waits for the plan, installs it and dispatches what was
// decoded before it came.
func (f *feeding) handedOver() error {
	select {
	case p := <-f.st.plan:
		if err := f.install(p); err != nil {
			return err
		}
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
	for _, x := range f.pending {
		if err := f.dispatch(x); err != nil {
			return err
		}
	}
	f.pending = nil
	return nil
}

// deliver takes a transaction of the early peek: kept in memory until the
// targets are handed over (at most maxEarly), dispatched once they are.
// The plan may come while the early peek still runs: the targets then
// start on what is decoded instead of waiting for the peek's end
// (handOver sends it once, into a buffer of one).
func (f *feeding) deliver(x *txn) error {
	switch {
	case f.st.fed:
		return f.dispatch(x)
	case len(f.pending) < maxEarly && len(f.st.plan) == 0:
		f.pending = append(f.pending, x)
		return nil
	}
	if err := f.handedOver(); err != nil {
		return err
	}
	return f.dispatch(x)
}

// peekTo peeks the slot on up to end (a record end), unless the stream is
// done or already went that far.
func (f *feeding) peekTo(in recovery.Input, repl *pgconn.PgConn, end recovery.LSN, feed func(*txn) error) error {
	st := f.st
	if st.a.done || end == 0 || end <= f.peekedTo {
		return nil
	}
	if err := peekSlot(f.sctx, repl, st.slot, st.source.Name, end, st.a, &f.r, in.StepTimeout, feed); err != nil {
		return err
	}
	f.peekedTo = end
	return nil
}

// decode decodes the slot: through the walsender from a keeper sample, or
// peeked up to the early end, then (the targets handed over) up to the
// source's last commit of the failed node as read after the fence, then,
// if not every target is proven covered there, on to the end marker.
func (f *feeding) decode(in recovery.Input, repl *pgconn.PgConn, confirmed recovery.LSN) error {
	st, a := f.st, f.st.a
	if f.walsender {
		if err := f.handedOver(); err != nil {
			return err
		}
		return streamSlot(f.sctx, repl, st.slot, a.start, confirmed, a, in.StepTimeout, f.dispatch)
	}
	if err := f.peekTo(in, repl, st.earlyEnd, f.deliver); err != nil {
		return err
	}
	if !st.fed {
		if err := f.handedOver(); err != nil {
			return err
		}
	}
	// The early peek may have passed the end of the failed node's last
	// commit before it was known.
	a.passed(a.reached)
	if err := f.peekTo(in, repl, f.plan.lastOfFailed, f.dispatch); err != nil {
		return err
	}
	if a.done {
		return nil
	}
	end, err := f.plan.end()
	if err != nil {
		return err
	}
	if err := f.peekTo(in, repl, end, f.dispatch); err != nil {
		return err
	}
	if !a.done {
		return fmt.Errorf("decode recovery slot %s up to the end marker at %s: the end marker %s was not decoded", st.slot, end, st.marker)
	}
	return nil
}

// slotPosition reads slot's confirmed_flush on node over the replication
// connection repl. A slot another recovery decodes is read all the same
// (decoding never moves it); the decoding then waits for it to be free.
func slotPosition(ctx context.Context, repl *pgconn.PgConn, node, slot string) (recovery.LSN, error) {
	res, err := repl.Exec(ctx, slotPositionSQL(slot)).ReadAll()
	if err != nil {
		return 0, err
	}
	if len(res) != 1 {
		return 0, fmt.Errorf("recovery slot %s on %s: %d results", slot, node, len(res))
	}
	return parseSlotPosition(res[0].Rows, node, slot)
}

// slotPositionSQL reads slot's confirmed_flush (no row: no such slot).
func slotPositionSQL(slot string) string {
	return "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = " + pgnode.QuoteLiteral(slot)
}

// parseSlotPosition is slotPositionSQL's answer as a position; a missing
// slot, or one at 0/0, is an error.
func parseSlotPosition(rows [][][]byte, node, slot string) (recovery.LSN, error) {
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("recovery slot %s missing on %s", slot, node)
	}
	confirmed, err := recovery.ParseLSN(string(rows[0][0]))
	if err == nil && confirmed == 0 {
		// The walsender's status updates report it as flushed; 0/0
		// would let pglogrepl report what was received instead.
		err = fmt.Errorf("recovery slot %s on %s has no confirmed position", slot, node)
	}
	return confirmed, err
}
