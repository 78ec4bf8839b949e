package spock

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// originEffect is what one node holds of the failed node, measured on the
// server: its progress for the failed origin and the rows (and distinct
// transactions) of user tables committed with the failed node's origin.
// Strategies that cannot report their own work (Spock's functions return
// only a bool) are judged by the change in these numbers.
type originEffect struct {
	origin   string
	progress recovery.LSN
	rows     int64
	txns     int64
}

// level tells whether two survivors hold the same of the failed node: the
// same rows and transactions of it, and the same progress for it (the
// position its subscription resumes from when the node returns).
func (e originEffect) level(o originEffect) bool {
	return e.rows == o.rows && e.txns == o.txns && e.progress == o.progress
}

// measureOrigin counts what the node holds of the failed node. roidents
// are the commit-timestamp origins that mean the failed node there: on
// pglogical its named origin's; on Spock also the failed node's node_id,
// which Spock's apply stamps (counting by the named origin alone finds
// nothing on Spock: see spockorigin.go).
func measureOrigin(ctx context.Context, conn *pgx.Conn, origin string, roidents []uint32) (originEffect, error) {
	e := originEffect{origin: origin}
	var err error
	if e.progress, err = pgnode.OriginProgress(ctx, conn, origin); err != nil {
		return e, err
	}
	rows, err := conn.Query(ctx, pgnode.UserTablesSQL)
	if err != nil {
		return e, fmt.Errorf("list user tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		return e, err
	}
	ids := make([]int64, 0, len(roidents))
	for _, r := range roidents {
		ids = append(ids, int64(r))
	}
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = fmt.Sprintf("SELECT xmin::text AS x FROM %s WHERE (pg_xact_commit_timestamp_origin(xmin)).roident::int8 IN (SELECT id FROM o)", t)
	}
	q := fmt.Sprintf(`WITH o AS (SELECT roident::int8 AS id FROM pg_replication_origin WHERE roname = $1 UNION SELECT unnest($2::int8[]))
SELECT count(*), count(DISTINCT x) FROM (%s) s`, strings.Join(parts, " UNION ALL "))
	if err := conn.QueryRow(ctx, q, origin, ids).Scan(&e.rows, &e.txns); err != nil {
		return e, fmt.Errorf("count rows of origin %s: %w", origin, err)
	}
	return e, nil
}
