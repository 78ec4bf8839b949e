package reference

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// peekSlot decodes slot on its node up to upto (a record end in the
// node's WAL) with pg_logical_slot_peek_binary_changes, over conn (a
// replication connection takes simple queries), and feeds every message
// to a, skipping what r says an earlier peek of the same slot already
// fed; each finished transaction goes to deliver. It stops reading once
// a is done. A peek decodes inside the server's own backend from the
// slot's confirmed_flush and never moves the slot (only the get
// functions do); the walsender's stream of the same transactions sent
// each message on its own and polled the client between WAL records,
// five times slower here (1,000 single-row transactions: 4-7 ms peeked,
// 29-43 ms through pg_recvlogical, its own start and login included,
// idle 2-core machine).
//
// Where it decoded from is proven, not assumed: the slot's position is
// read right before and right after the peek in the same simple query,
// and they must agree (a slot only moves forward). The first peek of a
// stream (a.start 0) sets a.start to it before any row is fed (floor
// messages are judged against it); a later one must find the same.
//
// A slot held by another session (a recovery of another failed node
// decoding it, or the keeper advancing it) is waited for, up to timeout.
func peekSlot(ctx context.Context, conn *pgconn.PgConn, slot, node string, upto recovery.LSN, a *assembler, r *resume, timeout time.Duration, deliver func(*txn) error) error {
	pos := slotPositionSQL(slot)
	sql := fmt.Sprintf("%s; SELECT data FROM pg_logical_slot_peek_binary_changes(%s, %s, NULL, %s); %s",
		pos, pgnode.QuoteLiteral(slot), pgnode.QuoteLiteral(upto.String()), pgnode.PeekArgs(pgversion.Of(conn)), pos)
	adopt := a.start == 0
	return harness.WaitForBackoff(ctx, "recovery slot "+slot+" to be free to decode", timeout, pgnode.PollFirst, pgnode.PollMost,
		func(ctx context.Context) (bool, string, error) {
			fed, err := peekOnce(ctx, conn, sql, slot, node, a, r, deliver)
			if fed == 0 && pgnode.SlotHeld(err) {
				slog.Debug("recovery: peek waits for a held slot", "slot", slot, "err", err)
				if adopt {
					// Whoever held it (the keeper) may have moved it.
					a.start = 0
				}
				return false, err.Error(), nil
			}
			if err != nil {
				return false, "", fmt.Errorf("decode recovery slot %s up to %s: %w", slot, upto, err)
			}
			return true, "", nil
		})
}

// peekOnce runs one peek (sql: position, peek, position) and feeds its
// rows; it returns how many rows it fed.
func peekOnce(ctx context.Context, conn *pgconn.PgConn, sql, slot, node string, a *assembler, r *resume, deliver func(*txn) error) (int, error) {
	began := time.Now()
	var firstRow time.Duration
	rr := conn.Exec(ctx, sql)
	defer rr.Close()
	fed := 0
	defer func() {
		slog.Debug("recovery: peek", "rows", fed, "first_row_after", firstRow, "took", time.Since(began))
	}()
	var before, after recovery.LSN
	var feedErr error
	for i := 0; rr.NextResult(); i++ {
		res := rr.ResultReader()
		switch i {
		case 0, 2:
			got := res.Read()
			if got.Err != nil {
				return fed, got.Err
			}
			var pos recovery.LSN
			pos, feedErr = parseSlotPosition(got.Rows, node, slot)
			if i == 0 {
				before = pos
				if feedErr == nil && a.start != 0 && before != a.start {
					feedErr = fmt.Errorf("the slot stands at %s, not at %s where this recovery's decoding of it began", before, a.start)
				}
				if feedErr == nil {
					a.start = before
				}
			} else {
				after = pos
			}
		default:
			for !a.done && feedErr == nil && res.NextRow() {
				if fed++; fed == 1 {
					firstRow = time.Since(began)
				}
				feedErr = feedRow(res.Values()[0], a, r, deliver)
			}
			// Rows past the end are read and dropped (Close), not fed.
			if _, err := res.Close(); err != nil && feedErr == nil {
				return fed, err
			}
		}
		if feedErr != nil {
			break
		}
	}
	if err := rr.Close(); err != nil && feedErr == nil {
		return fed, err
	}
	if feedErr == nil && after != before {
		feedErr = fmt.Errorf("the slot moved from %s to %s while it was decoded: the decoding is not proven to start at %s", before, after, before)
	}
	return fed, feedErr
}

// feedRow decodes one row's data (bytea in hex text) as a pgoutput
// message and feeds it.
func feedRow(v []byte, a *assembler, r *resume, deliver func(*txn) error) error {
	if !bytes.HasPrefix(v, []byte(`\x`)) {
		return fmt.Errorf("peeked change is not hex bytea: %.20q", v)
	}
	data := make([]byte, hex.DecodedLen(len(v)-2))
	if _, err := hex.Decode(data, v[2:]); err != nil {
		return fmt.Errorf("peeked change: %w", err)
	}
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		return fmt.Errorf("decode pgoutput message: %w", err)
	}
	if r.skip(msg) {
		return nil
	}
	t, err := a.feed(msg)
	if err != nil || t == nil {
		return err
	}
	return deliver(t)
}

// resume lets a second peek of a slot feed only what the first did not:
// pgoutput sends transactions and non-transactional messages in the order
// of their commit (or message) records in the WAL, and a second peek,
// which decodes again from the slot's position, passes over every one
// that ends at or before where the last one fed ends. Relation messages
// are fed again (a new decoding session sends them anew; the assembler
// replaces its entry).
//
// Ends, not starts: a non-transactional message carries where its record
// ends, and a commit record may start exactly there; compared with the
// commit's start (Begin's FinalLSN), such a transaction looked fed
// already and was dropped (bench rto: 999 of 1,000 replayed, the first
// transaction right after a floor message).
type resume struct {
	// last is where the last transaction (its commit record) or
	// non-transactional message fed ends (0: none yet).
	last     recovery.LSN
	skipping bool
}

// skip tells whether m belongs to what was fed already; for a message
// fed, it notes how far the feeding went.
func (r *resume) skip(m pglogrepl.Message) bool {
	switch m := m.(type) {
	case *pglogrepl.RelationMessage:
		return false
	case *pglogrepl.BeginMessage:
		// A transaction fed ends at or before last, so its commit
		// record starts before it; one not fed starts at or after it.
		r.skipping = recovery.LSN(m.FinalLSN) < r.last
		return r.skipping
	case *pglogrepl.CommitMessage:
		if r.skipping {
			r.skipping = false
			return true
		}
		r.last = max(r.last, recovery.LSN(m.TransactionEndLSN))
		return false
	case *pglogrepl.LogicalDecodingMessage:
		if !m.Transactional {
			if recovery.LSN(m.LSN) <= r.last {
				return true
			}
			r.last = recovery.LSN(m.LSN)
			return false
		}
	}
	return r.skipping
}
