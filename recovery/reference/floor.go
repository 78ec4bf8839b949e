package reference

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// FloorOrigin is the scratch replication origin MeasureApply replays under.
const FloorOrigin = "spockchaos_apply_floor"

// FloorTable names a table for MeasureApply: its columns in order, and
// how many of the first ones form the primary key.
type FloorTable struct {
	Schema, Name string
	Columns      []string
	KeyColumns   int
}

// MeasureApply times the apply part of a recovery alone: it applies txns
// (each a list of rows, each row its column values as text) as inserts
// into table on the node at dsn through the reference replay's own
// applier (the same session settings, pipelining, origin-stamped commits
// under the scratch origin FloorOrigin, last-update-wins statements and
// the final flushed WAL record), with nothing to decode. It is the floor a
// recovery of the same transactions cannot beat (bench rto). The table
// must exist; the origin is created if missing and dropped at the end.
func MeasureApply(ctx context.Context, dsn, node string, table FloorTable, txns [][][]string) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("measure apply on %s: connect: %w", node, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_replication_origin_create($1) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = $1)", FloorOrigin); err != nil {
		return 0, fmt.Errorf("measure apply on %s: create origin %s: %w", node, FloorOrigin, err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_session_reset()")
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_replication_origin_drop($1)", FloorOrigin)
	}()
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off; SET session_replication_role = replica"); err != nil {
		return 0, fmt.Errorf("measure apply on %s: session settings: %w", node, err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_replication_origin_session_setup($1)", FloorOrigin); err != nil {
		return 0, fmt.Errorf("measure apply on %s: set up origin %s: %w", node, FloorOrigin, err)
	}
	rel := &relation{schema: table.Schema, name: table.Name}
	for i, c := range table.Columns {
		rel.cols = append(rel.cols, relColumn{name: c, key: i < table.KeyColumns})
	}
	ap := newApplier(conn, node)
	if _, err := ap.types(ctx, rel); err != nil {
		return 0, fmt.Errorf("measure apply on %s: %w", node, err)
	}
	start := time.Now()
	now := time.Now()
	for i, rows := range txns {
		t := &txn{originLSN: recovery.LSN(i + 1), commitTime: now.Add(time.Duration(i) * time.Microsecond)}
		for _, r := range rows {
			vals := make([]value, len(r))
			for j, v := range r {
				vals[j] = value{kind: 't', text: v}
			}
			t.changes = append(t.changes, change{kind: 'I', rel: rel, new: vals})
		}
		if err := ap.add(ctx, t); err != nil {
			return 0, fmt.Errorf("measure apply on %s: %w", node, err)
		}
	}
	if err := ap.flush(ctx); err != nil {
		return 0, fmt.Errorf("measure apply on %s: %w", node, err)
	}
	if _, err := conn.Exec(ctx, pgnode.FlushSQL(pgversion.Of(conn.PgConn()))); err != nil {
		return 0, fmt.Errorf("measure apply on %s: flush WAL: %w", node, err)
	}
	elapsed := time.Since(start)
	if ap.txns != int64(len(txns)) {
		return elapsed, fmt.Errorf("measure apply on %s: %d of %d transactions committed", node, ap.txns, len(txns))
	}
	return elapsed, nil
}
