package reference

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// openStream opens the replication connection for the stream of source's
// recovery slot: over source's DirectDSN when set and it reaches source (it
// holds source's own recovery slot for the failed node: an address can
// pass to another container after a restart), else over its DSN.
func openStream(ctx context.Context, in recovery.Input, source recovery.Survivor) (*pgconn.PgConn, string, error) {
	if source.DirectDSN != "" {
		if conn, err := pgnode.OpenReplication(ctx, source.DirectDSN); err == nil {
			slot := recovery.RecoverySlotName(in.DB, source.Name, in.Failed)
			res, err := conn.Exec(ctx, "SELECT 1 FROM pg_replication_slots WHERE slot_name = "+pgnode.QuoteLiteral(slot)).ReadAll()
			if err == nil && len(res) == 1 && len(res[0].Rows) == 1 {
				return conn, "at its run-network address", nil
			}
			conn.Close(context.WithoutCancel(ctx))
		}
	}
	conn, err := pgnode.OpenReplication(ctx, source.DSN)
	return conn, "through its published port", err
}

// pendingStream is a survivor's replication connection opening in the
// background (or kept open ahead by a Standby), should the survivor be
// the source: the login overlaps the fence. Its first query reads the
// position of the survivor's recovery slot for the failed node, which a
// stream from it starts with (on a kept connection it is also the check
// that the connection answers).
type pendingStream struct {
	done chan struct{}
	conn *pgconn.PgConn
	// confirmed is the slot's confirmed_flush, 0 when it could not be
	// read (a slot at 0/0 is an error); slots only move forward, so it
	// stays a lower bound of the slot's position.
	confirmed recovery.LSN
}

// startStream readies sv's replication connection in the background: the
// one kept open ahead when it still answers, else a new one (openStream).
// The outcomes are recorded as actions of sv.
func startStream(ctx context.Context, in recovery.Input, rec *recovery.Recorder, sv recovery.Survivor, kept *recovery.Kept) *pendingStream {
	p := &pendingStream{done: make(chan struct{})}
	slot := recovery.RecoverySlotName(in.DB, sv.Name, in.Failed)
	position := func(ctx context.Context, conn *pgconn.PgConn) error {
		confirmed, err := slotPosition(ctx, conn, sv.Name, slot)
		if err == nil {
			p.confirmed = confirmed
		}
		return err
	}
	go func() {
		defer close(p.done)
		cctx, cancel := context.WithTimeout(ctx, in.StepTimeout)
		defer cancel()
		if kept != nil && kept.Repl != nil {
			err := position(cctx, kept.Repl)
			// A failed query closes a connection that no longer answers.
			if err == nil || !kept.Repl.IsClosed() {
				rec.Action(sv.Name, "replication connection kept open ahead", kept.Via, nil)
				p.conn = kept.Repl
				return
			}
			kept.Repl.Close(context.WithoutCancel(ctx))
			rec.Action(sv.Name, "replication connection kept open ahead no longer answers: log in again", "", err)
		}
		conn, via, err := openStream(cctx, in, sv)
		if err != nil {
			rec.Action(sv.Name, "open a replication connection (should it be the source, it tries again)", "", err)
			return
		}
		rec.Action(sv.Name, "open a replication connection", via, nil)
		p.conn = conn
		_ = position(cctx, conn) // a failure is read again, and reported, by the stream
	}()
	return p
}

// take waits for the connection and hands it over (nil if it failed); the
// caller closes it.
func (p *pendingStream) take() *pgconn.PgConn {
	<-p.done
	c := p.conn
	p.conn = nil
	return c
}

// discard closes the connection of a survivor that is not the source. It
// runs even when ctx is done (clean-up), bounded by timeout.
func (p *pendingStream) discard(ctx context.Context, timeout time.Duration) {
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if c := p.take(); c != nil {
		c.Close(ctx)
	}
}

// readAhead is how far ahead streamSlot's read deadline lies: how often an
// idle stream asks the server for a keepalive.
const readAhead = time.Second

// streamSlot streams slot over the replication connection conn from start
// (the server begins at the slot's confirmed_flush if that is later),
// reporting confirmed, and never more, as flushed: the slot does not move.
// It hands every transaction the assembler keeps to deliver, and returns
// when the assembler is done (its end marker, or past the failed node's
// last commit); it closes conn, which releases the slot. It fails when the server sends nothing for
// idle, keepalives included (the end marker is written right after the
// fence, so a healthy stream reaches it). A slot another session still
// holds (a recovery ending) is waited for, up to idle.
func streamSlot(ctx context.Context, conn *pgconn.PgConn, slot string, start, confirmed recovery.LSN, a *assembler, idle time.Duration, deliver func(*txn) error) error {
	defer conn.Close(context.WithoutCancel(ctx))
	err := harness.WaitForBackoff(ctx, "recovery slot "+slot+" to be free to stream", idle, pgnode.PollFirst, pgnode.PollMost,
		func(ctx context.Context) (bool, string, error) {
			err := pglogrepl.StartReplication(ctx, conn, slot, pglogrepl.LSN(start), pglogrepl.StartReplicationOptions{PluginArgs: pgnode.PgoutputArgs(pgversion.Of(conn))})
			if pgnode.SlotHeld(err) {
				return false, err.Error(), nil
			}
			return err == nil, "", err
		})
	if err != nil {
		return fmt.Errorf("start replication from slot %s at %s: %w", slot, start, err)
	}
	w := &walStream{conn: conn, slot: slot, confirmed: confirmed, a: a, deliver: deliver}
	return w.run(ctx, idle)
}

// walStream is a started walsender stream of a recovery slot.
type walStream struct {
	conn      *pgconn.PgConn
	slot      string
	confirmed recovery.LSN
	a         *assembler
	deliver   func(*txn) error
	// received is the furthest WAL start received.
	received recovery.LSN
}

// status is a standby status update: reported as flushed, the slot's own
// position, which moves nothing (never 0/0: pglogrepl would report the
// received position instead).
func (w *walStream) status(reply bool) pglogrepl.StandbyStatusUpdate {
	return pglogrepl.StandbyStatusUpdate{WALWritePosition: pglogrepl.LSN(w.received), WALFlushPosition: pglogrepl.LSN(w.confirmed),
		WALApplyPosition: pglogrepl.LSN(w.confirmed), ReplyRequested: reply}
}

// run receives until the assembler is done.
func (w *walStream) run(ctx context.Context, idle time.Duration) error {
	// Reads are bounded by the connection's read deadline, set a second
	// ahead and moved on every half second, and cut short when ctx ends
	// (at worst a second late, should the deadline move just after): a
	// context per message, and pgconn's watcher for it, took about half
	// of ReceiveMessage's time in a CPU profile of bench rto.
	nc := w.conn.Conn()
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Now()) })
	defer stop()
	var deadline time.Time
	lastMessage := time.Now()
	for !w.a.done {
		if err := ctx.Err(); err != nil {
			return err
		}
		if now := time.Now(); deadline.Sub(now) < readAhead/2 {
			deadline = now.Add(readAhead)
			if err := nc.SetReadDeadline(deadline); err != nil {
				return fmt.Errorf("stream from slot %s: set read deadline: %w", w.slot, err)
			}
		}
		raw, err := w.conn.ReceiveMessage(context.Background())
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !pgconn.Timeout(err) {
				return fmt.Errorf("stream from slot %s: receive: %w", w.slot, err)
			}
			deadline = time.Time{}
			if time.Since(lastMessage) > idle {
				return fmt.Errorf("stream from slot %s: nothing received for %s before the end marker", w.slot, idle)
			}
			// Ask for a keepalive so a dead server is noticed.
			if err := pglogrepl.SendStandbyStatusUpdate(ctx, w.conn, w.status(true)); err != nil {
				return fmt.Errorf("stream from slot %s: status update: %w", w.slot, err)
			}
			continue
		}
		lastMessage = time.Now()
		if err := w.handle(ctx, raw); err != nil {
			return err
		}
	}
	return nil
}

// handle takes one message of the stream.
func (w *walStream) handle(ctx context.Context, raw pgproto3.BackendMessage) error {
	switch m := raw.(type) {
	case *pgproto3.ErrorResponse:
		return fmt.Errorf("stream from slot %s: %w", w.slot, pgconn.ErrorResponseToPgError(m))
	case *pgproto3.CopyData:
		if len(m.Data) == 0 {
			return nil
		}
		switch m.Data[0] {
		case pglogrepl.PrimaryKeepaliveMessageByteID:
			ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
			if err != nil {
				return fmt.Errorf("stream from slot %s: keepalive: %w", w.slot, err)
			}
			if ka.ReplyRequested {
				if err := pglogrepl.SendStandbyStatusUpdate(ctx, w.conn, w.status(false)); err != nil {
					return fmt.Errorf("stream from slot %s: status update: %w", w.slot, err)
				}
			}
		case pglogrepl.XLogDataByteID:
			return w.xlogData(m.Data[1:])
		}
		return nil
	default:
		return fmt.Errorf("stream from slot %s: unexpected message %T", w.slot, raw)
	}
}

// xlogData decodes one pgoutput message and feeds it to the assembler.
func (w *walStream) xlogData(data []byte) error {
	xld, err := pglogrepl.ParseXLogData(data)
	if err != nil {
		return fmt.Errorf("stream from slot %s: xlog data: %w", w.slot, err)
	}
	w.received = max(w.received, xld.WALStart)
	msg, err := pglogrepl.Parse(xld.WALData)
	if err != nil {
		return fmt.Errorf("stream from slot %s: decode pgoutput message at %s: %w", w.slot, xld.WALStart, err)
	}
	t, err := w.a.feed(msg)
	if err != nil {
		return fmt.Errorf("stream from slot %s at %s: %w", w.slot, xld.WALStart, err)
	}
	if t != nil {
		return w.deliver(t)
	}
	return nil
}
