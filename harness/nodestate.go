package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/record"
)

// captureStatementTimeout bounds each capture query: pg_replication_slots
// can block behind a stuck slot lock (DESIGN.md section 4), and a report
// must not hang on it.
const captureStatementTimeout = "5s"

const slotsQuery = `SELECT to_jsonb(s) FROM pg_replication_slots s ORDER BY s.slot_name`

// originsQuery lists every origin, with its progress when it has any,
// and progress kept under an id no origin is registered for (name null):
// Spock stamps applied commits with the origin node's node_id, and crash
// recovery advances that id, not the subscription's origin.
const originsQuery = `SELECT jsonb_build_object(
  'id', coalesce(o.roident, s.local_id), 'name', o.roname,
  'remote_lsn', s.remote_lsn::text, 'local_lsn', s.local_lsn::text)
FROM pg_replication_origin o
FULL JOIN pg_replication_origin_status s ON s.local_id = o.roident
ORDER BY o.roname NULLS LAST, s.local_id`

// CaptureNodeState reads the replication slots and origins of the server
// at dsn, for the run record (nodes/<name>/ of a run directory). Each
// query runs under a statement timeout.
func CaptureNodeState(ctx context.Context, dsn string) (record.NodeState, error) {
	st := record.NodeState{CapturedAt: time.Now().UTC()}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return st, fmt.Errorf("capture node state: parse dsn: %w", err)
	}
	cfg.RuntimeParams["statement_timeout"] = captureStatementTimeout
	cfg.RuntimeParams["application_name"] = "spockchaos-reports"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return st, fmt.Errorf("capture node state: connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st.ServerVersion = conn.PgConn().ParameterStatus("server_version")
	if st.Slots, err = jsonRows(ctx, conn, slotsQuery); err != nil {
		return st, fmt.Errorf("capture node state on %s:%d: read pg_replication_slots: %w", cfg.Host, cfg.Port, err)
	}
	if st.Origins, err = jsonRows(ctx, conn, originsQuery); err != nil {
		return st, fmt.Errorf("capture node state on %s:%d: read replication origins: %w", cfg.Host, cfg.Port, err)
	}
	return st, nil
}

func jsonRows(ctx context.Context, conn *pgx.Conn, query string) ([]map[string]any, error) {
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[map[string]any])
	if out == nil {
		out = []map[string]any{}
	}
	return out, err
}
