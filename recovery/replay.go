package recovery

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// pgoutputArgs ask for protocol 1 (no streaming of large transactions: the
// server sends each one whole at its commit, spilling to disk as needed),
// every origin (the point: the failed node's transactions are applied ones),
// and logical messages (the end marker).
var pgoutputArgs = []string{
	"proto_version '1'",
	"publication_names '" + PublicationName + "'",
	"origin 'any'",
	"messages 'true'",
}

// replicationDSN turns a DSN (URL or key=value) into one that opens a
// logical replication connection.
func replicationDSN(dsn string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		q := u.Query()
		q.Set("replication", "database")
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " replication=database", nil
}

// streamSlot streams slot on the node at dsn from its start, hands every
// transaction the assembler keeps to deliver, and returns when the
// assembler saw its end marker. It fails when the server sends nothing for
// idle (the end marker was written before streaming started, so a healthy
// stream always reaches it).
func streamSlot(ctx context.Context, dsn, slot string, a *assembler, idle time.Duration, deliver func(*txn) error) error {
	rdsn, err := replicationDSN(dsn)
	if err != nil {
		return err
	}
	conn, err := pgconn.Connect(ctx, rdsn)
	if err != nil {
		return fmt.Errorf("open replication connection: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := pglogrepl.StartReplication(ctx, conn, slot, 0, pglogrepl.StartReplicationOptions{PluginArgs: pgoutputArgs}); err != nil {
		return fmt.Errorf("start replication from slot %s: %w", slot, err)
	}
	var received LSN
	lastMessage := time.Now()
	for !a.done {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		raw, err := conn.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				if time.Since(lastMessage) > idle {
					return fmt.Errorf("stream from slot %s: nothing received for %s before the end marker", slot, idle)
				}
				// Ask for a keepalive so a dead server is noticed.
				if err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: received, ReplyRequested: true}); err != nil {
					return fmt.Errorf("stream from slot %s: status update: %w", slot, err)
				}
				continue
			}
			return fmt.Errorf("stream from slot %s: receive: %w", slot, err)
		}
		lastMessage = time.Now()
		switch m := raw.(type) {
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("stream from slot %s: %w", slot, pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("stream from slot %s: keepalive: %w", slot, err)
				}
				if ka.ReplyRequested {
					if err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: received}); err != nil {
						return fmt.Errorf("stream from slot %s: status update: %w", slot, err)
					}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fmt.Errorf("stream from slot %s: xlog data: %w", slot, err)
				}
				received = max(received, xld.WALStart)
				msg, err := pglogrepl.Parse(xld.WALData)
				if err != nil {
					return fmt.Errorf("stream from slot %s: decode pgoutput message at %s: %w", slot, xld.WALStart, err)
				}
				t, err := a.feed(msg)
				if err != nil {
					return fmt.Errorf("stream from slot %s at %s: %w", slot, xld.WALStart, err)
				}
				if t != nil {
					if err := deliver(t); err != nil {
						return err
					}
				}
			}
		default:
			return fmt.Errorf("stream from slot %s: unexpected message %T", slot, raw)
		}
	}
	return nil
}
