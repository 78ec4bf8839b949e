package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// Moment is when a node's replication state was captured.
type Moment string

// Capture moments (file name suffixes under nodes/<name>/).
const (
	BeforeFault   Moment = "before-fault"
	AfterRecovery Moment = "after-recovery"
)

// NodeState is a node's replication state at one moment: every row of
// pg_replication_slots, and every replication origin with its progress.
// Rows are generic JSON objects so that any server version fits.
type NodeState struct {
	CapturedAt time.Time `json:"captured_at"`
	// ServerVersion is the server's server_version (Write copies it into
	// Node.ServerVersion and Versions.PostgreSQL when those are empty).
	ServerVersion string           `json:"server_version,omitempty"`
	Slots         []map[string]any `json:"slots"`
	Origins       []map[string]any `json:"origins"`
}

// captureStatementTimeout bounds each capture query: pg_replication_slots
// can block behind a stuck slot lock (DESIGN.md section 4), and a report
// must not hang on it.
const captureStatementTimeout = "5s"

const slotsQuery = `SELECT to_jsonb(s) FROM pg_replication_slots s ORDER BY s.slot_name`

// originsQuery lists every origin, with its progress when it has any.
const originsQuery = `SELECT jsonb_build_object(
  'id', o.roident, 'name', o.roname,
  'remote_lsn', s.remote_lsn::text, 'local_lsn', s.local_lsn::text)
FROM pg_replication_origin o
LEFT JOIN pg_replication_origin_status s ON s.local_id = o.roident
ORDER BY o.roname`

// CaptureNodeState reads the replication slots and origins of the server
// at dsn. Each query runs under a statement timeout.
func CaptureNodeState(ctx context.Context, dsn string) (NodeState, error) {
	st := NodeState{CapturedAt: time.Now().UTC()}
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

// NodeDir is nodes/<node> inside the run directory dir.
func NodeDir(dir, node string) string { return filepath.Join(dir, "nodes", node) }

// WriteServerLog stores a node's server log as nodes/<node>/server.log.
func WriteServerLog(dir, node string, log []byte) error {
	if err := os.MkdirAll(NodeDir(dir, node), 0o755); err != nil {
		return fmt.Errorf("write server log of %s: %w", node, err)
	}
	path := filepath.Join(NodeDir(dir, node), "server.log")
	if err := os.WriteFile(path, log, 0o644); err != nil {
		return fmt.Errorf("write server log of %s: %w", node, err)
	}
	return nil
}

// WriteNodeState stores st as nodes/<node>/slots-<at>.json and
// nodes/<node>/origins-<at>.json.
func WriteNodeState(dir, node string, at Moment, st NodeState) error {
	if err := os.MkdirAll(NodeDir(dir, node), 0o755); err != nil {
		return fmt.Errorf("write %s state of %s: %w", at, node, err)
	}
	files := map[string]any{
		"slots-" + string(at) + ".json":   map[string]any{"captured_at": st.CapturedAt, "server_version": st.ServerVersion, "slots": nonNil(st.Slots)},
		"origins-" + string(at) + ".json": map[string]any{"captured_at": st.CapturedAt, "origins": nonNil(st.Origins)},
	}
	for name, v := range files {
		if err := writeJSON(filepath.Join(NodeDir(dir, node), name), v); err != nil {
			return fmt.Errorf("write %s state of %s: %w", at, node, err)
		}
	}
	return nil
}

// writeJSON writes v as indented JSON to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
