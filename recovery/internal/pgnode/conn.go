package pgnode

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/pgversion"
	"github.com/spockchaos/spockchaos/recovery"
)

// QuoteLiteral quotes s as an SQL string literal (the replication
// protocol takes simple queries only, without parameters).
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func ConnectWithTimeout(ctx context.Context, dsn string, timeout time.Duration) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pgx.Connect(cctx, dsn)
}

// PgoutputArgs ask for protocol 1 (no streaming of large transactions: the
// server sends each one whole at its commit, spilling to disk as needed; 1
// is spoken by every major), every origin (the point: the failed node's
// transactions are applied ones; before 16 pgoutput has no origin option
// and always sends every origin, pgversion.PgoutputOrigin), and logical
// messages (the end marker), for a server of server_version_num num (0:
// unknown, taken as 16+).
func PgoutputArgs(num int) []string {
	args := []string{"proto_version '1'", "publication_names '" + recovery.PublicationName + "'"}
	if num == 0 || pgversion.PgoutputOrigin(num) {
		args = append(args, "origin 'any'")
	}
	return append(args, "messages 'true'")
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

// openReplication opens a logical replication connection to the node at
// dsn.
func OpenReplication(ctx context.Context, dsn string) (*pgconn.PgConn, error) {
	rdsn, err := replicationDSN(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := pgconn.Connect(ctx, rdsn)
	if err != nil {
		return nil, fmt.Errorf("open replication connection: %w", err)
	}
	return conn, nil
}

// PeekArgs are PgoutputArgs(num) as the arguments of
// pg_logical_slot_peek_binary_changes.
func PeekArgs(num int) string {
	var parts []string
	for _, a := range PgoutputArgs(num) {
		name, val, _ := strings.Cut(a, " ")
		parts = append(parts, QuoteLiteral(name), val)
	}
	return strings.Join(parts, ", ")
}

// slotHeld tells whether err says the slot is held by another session
// (SQLSTATE 55006, object in use): a recovery streaming it.
func SlotHeld(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// preloadColumns bounds the columns preloadTypes reads.
const PreloadColumns = 20000

// preloadTypesSQL reads "schema.table", column and type of every user
// table's columns (userTablesSQL's tables), table by table.
const PreloadTypesSQL = `SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND ` + UserTableCond + `
ORDER BY c.oid LIMIT $1`

// userTablesSQL lists the tables recovery is about: every table outside
// the system, extension and harness schemas.
const UserTablesSQL = `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ` + UserTableCond + ` ORDER BY 1`

// userTableCond selects, of pg_class c and pg_namespace n, the tables
// recovery is about.
const UserTableCond = `c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pglogical', 'spock', 'spockchaos')
  AND n.nspname NOT LIKE 'pg\_%'`
