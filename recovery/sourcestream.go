package recovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// sourceStream decodes the source's slot clone in the background and feeds
// the targets once they are handed to it (handOver). On pglogical it starts
// before the fence, on the provisional source (the survivor that had
// applied the most of the failed node when the sessions opened): the
// source's decoding then overlaps the fence and the opening of the
// targets, and the targets apply what is already decoded instead of
// sharing the CPU with the decoding on a small machine. Until the targets
// are handed over, what it decodes waits in memory (at most maxEarly
// transactions, then decoding waits too).
//
// Why starting early is safe: the clone starts no later than the recovery
// slot did (it is copied from it), the stream still ends at an end marker
// written after the fence, and it keeps every transaction of the failed
// node placed after `after`, a lower bound of the targets' positions read
// before the fence. Positions only move forward, and a target found
// behind `after` once handed over (or a source that is not the final one)
// is never fed from it: the recovery starts a stream again instead
// (runReference) or fails that target.
type sourceStream struct {
	source *survivorState
	// after and froms are the positions it was started for: it keeps the
	// failed node's transactions past after, and its clone was advanced
	// to a keeper sample at or below every one of froms.
	after  position
	froms  []LSN
	marker string
	spock  *spockStream

	plan   chan streamPlan
	cancel context.CancelFunc
	done   chan struct{}

	// Set by the stream before done closes.
	a  *assembler
	cl clone // cl.made: the temporary clone exists (on the stream's session)
	// step names what failed before the stream began (with err); when it
	// is empty, err is the stream's own error and the targets were fed.
	step string
	err  error
	// fed: the targets were handed over and fed (their appliers ran).
	fed     bool
	release func()
}

// streamPlan is what the stream needs from the recovery once the targets
// are open: the targets, and on pglogical where the source's last commit
// of the failed node ends (assembler.lastOfFailed).
type streamPlan struct {
	targets      []*replayTarget
	lastOfFailed LSN
}

// maxEarly bounds the transactions a stream keeps before the targets are
// handed to it.
const maxEarly = 20000

// startSourceStream starts the stream of source's clone for targets at or
// past after (froms: their positions as origin LSNs). The clone is the one
// copied on source's pending replication connection, or copied again.
func startSourceStream(ctx context.Context, in Input, rec *recorder, source *survivorState, after position, froms []LSN, marker string, spock *spockStream) *sourceStream {
	sctx, cancel := context.WithCancel(ctx)
	st := &sourceStream{source: source, after: after, froms: froms, marker: marker, spock: spock,
		plan: make(chan streamPlan, 1), cancel: cancel, done: make(chan struct{})}
	st.release = sync.OnceFunc(func() { st.awaitGone(context.WithoutCancel(ctx), in, rec) })
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

// abandon stops a stream that will feed no target, and sees its clone
// gone.
func (st *sourceStream) abandon() {
	st.cancel()
	<-st.done
	st.release()
}

// awaitGone sees the temporary clone gone with its session (closed when
// the stream ended).
func (st *sourceStream) awaitGone(ctx context.Context, in Input, rec *recorder) {
	<-st.done
	if !st.cl.made {
		return
	}
	err := awaitCloneGone(ctx, st.source.conn, st.cl.name, in.StepTimeout)
	rec.action(st.source.Name, "temporary slot "+st.cl.name+" gone with its session", "", err)
	if err != nil {
		rec.fail(fmt.Errorf("recover %s from %s: drop clone step: %w", in.Failed, st.source.Name, err))
		return
	}
	rec.cloneRemoved(st.cl.index)
}

func (st *sourceStream) run(ctx context.Context, in Input, rec *recorder) {
	source := st.source
	repl, cl := source.stream.take()
	if repl == nil {
		var via string
		var err error
		repl, via, err = openStream(ctx, in, source.Survivor)
		rec.action(source.Name, "open the replication connection for the stream, again", via, err)
		if err != nil {
			st.step, st.err = "stream step", err
			return
		}
	}
	// The clone is temporary: it goes with this session.
	defer repl.Close(context.WithoutCancel(ctx))
	if !cl.made {
		cl = copyClone(ctx, in, rec, source.Name, repl)
	}
	st.cl = cl
	if cl.err != nil {
		st.step, st.err = cl.step, cl.err
		return
	}
	// The clone starts where the keeper's samples let it: as close to the
	// oldest transaction a target lacks as the samples go.
	if smp, ok := cloneStart(cl.start, source.Samples, st.froms); ok {
		start, err := advanceClone(ctx, repl, cl.name, smp.Local)
		rec.action(source.Name, fmt.Sprintf("advance %s to the keeper's sample (origin LSN %s, local %s): at or below every target's position", cl.name, smp.Origin, smp.Local),
			fmt.Sprintf("confirmed_flush %s", start), err)
		if err != nil {
			st.step, st.err = "advance clone", err
			return
		}
		st.cl.start = start
	}
	st.a = newAssembler(source.origin, st.after, st.marker)
	st.a.start = st.cl.start
	st.a.spock = st.spock
	st.err = st.feed(ctx, repl, in.StepTimeout)
}

// feed streams the clone and hands each transaction to every target whose
// progress is before it; the targets apply side by side with the decoding
// on the source. The stream stops early only when every target has
// failed. It returns the stream's error; apply errors stay on the targets.
func (st *sourceStream) feed(ctx context.Context, repl *pgconn.PgConn, idle time.Duration) error {
	a := st.a
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var targets []*replayTarget
	installed := false
	// Until a target fails or has applied everything, it counts as
	// applying; once none does, the stream has no one left to feed.
	var stillApplying, exited sync.WaitGroup
	install := func(p streamPlan) {
		installed, targets = true, p.targets
		st.fed = true
		a.lastOfFailed = p.lastOfFailed
		a.stopEarly = func() bool {
			for _, rt := range targets {
				if rt.gap == nil && !covered(a, rt) {
					return false
				}
			}
			return true
		}
		stillApplying.Add(len(targets))
		for _, rt := range targets {
			rt.failOnce = sync.OnceFunc(stillApplying.Done)
			exited.Go(func() {
				_ = rt.applyAll(ctx, rt.failOnce)
				rt.failOnce()
			})
			if rt.fromPos < st.after {
				// Cannot happen while positions only move forward; were
				// it to, this stream dropped what the target may lack.
				rt.gap = fmt.Errorf("the target's position for the failed node (%s) is behind the one the stream of %s was started for (%s): nothing replayed, progress not advanced",
					posString(rt, rt.fromPos), st.cl.name, posString(rt, st.after))
				rt.failOnce()
			}
		}
		go func() { stillApplying.Wait(); cancel() }()
	}
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
			st.cl.name, posString(rt, rt.fromPos), posString(rt, first))
		rt.held = nil
		rt.failOnce()
	}
	dispatch := func(t *txn) error {
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
	}
	var pending []*txn
	drain := func() error {
		for _, t := range pending {
			if err := dispatch(t); err != nil {
				return err
			}
		}
		pending = nil
		return nil
	}
	// Each message received, the targets are looked for: once handed
	// over, what waited goes to them and the rest follows as it comes.
	each := func() error {
		if installed {
			return nil
		}
		select {
		case p := <-st.plan:
			install(p)
			return drain()
		default:
			return nil
		}
	}
	deliver := func(t *txn) error {
		if installed {
			return dispatch(t)
		}
		if len(pending) < maxEarly {
			pending = append(pending, t)
			return nil
		}
		select {
		case p := <-st.plan:
			install(p)
		case <-sctx.Done():
			return sctx.Err()
		}
		if err := drain(); err != nil {
			return err
		}
		return dispatch(t)
	}
	streamStart := time.Now()
	streamErr := streamSlot(sctx, repl, st.cl.name, a, idle, each, deliver)
	if !installed {
		select {
		case p := <-st.plan:
			install(p)
		case <-ctx.Done():
			return errors.Join(streamErr, ctx.Err())
		}
		if streamErr == nil {
			streamErr = drain()
		}
	}
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
