package reference

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

// Batching: transactions are queued into one pgx pipeline and sent
// together; each keeps its own BEGIN/COMMIT, so a failure commits the ones
// before it and nothing after it (progress stays exact, a rerun resumes).
const (
	maxBatchTxns       = 200
	maxBatchStatements = 5000
)

// applier replays transactions on one target over one connection whose
// session already holds the target's replication origin for the failed
// node (pg_replication_origin_session_setup).
type applier struct {
	conn   *pgx.Conn
	target string

	colTypes map[string]map[string]string // "schema.table" -> column -> type

	batch      *pgx.Batch
	stmts      []stmtInfo
	batchTxns  int
	batchStart time.Time // when the batch's first transaction was queued
	pendingLSN recovery.LSN
	// pinLSN, when set, is the origin LSN every replayed commit carries
	// instead of the transaction's own (Spock: the stream has none; the
	// origin stays where it was until the replay is proven complete).
	pinLSN recovery.LSN

	txns, rows, skippedRows int64
	first, last             recovery.LSN
	// applying is the time spent sending batches and reading their results.
	applying time.Duration
}

type stmtInfo struct {
	isChange  bool
	originLSN recovery.LSN
}

func newApplier(conn *pgx.Conn, target string) *applier {
	return &applier{conn: conn, target: target, colTypes: map[string]map[string]string{}, batch: &pgx.Batch{}}
}

// add queues one transaction; it is sent when the batch is full or at flush.
func (ap *applier) add(ctx context.Context, t *txn) error {
	if ap.batchTxns == 0 {
		ap.batchStart = time.Now()
	}
	ap.queue("BEGIN", stmtInfo{originLSN: t.originLSN})
	originLSN := t.originLSN
	if ap.pinLSN != 0 {
		originLSN = ap.pinLSN
	}
	ap.queue("SELECT pg_replication_origin_xact_setup($1::text::pg_lsn, $2::timestamptz)", stmtInfo{originLSN: t.originLSN}, originLSN.String(), t.commitTime)
	for _, c := range t.changes {
		sql, args, err := ap.changeSQL(ctx, c, t)
		if err != nil {
			return fmt.Errorf("apply txn at origin LSN %s on %s: %w", t.originLSN, ap.target, err)
		}
		ap.queue(sql, stmtInfo{isChange: true, originLSN: t.originLSN}, args...)
	}
	ap.queue("COMMIT", stmtInfo{originLSN: t.originLSN})
	ap.batchTxns++
	ap.pendingLSN = t.originLSN
	if ap.first == 0 {
		ap.first = t.originLSN
	}
	if ap.batchTxns >= maxBatchTxns || len(ap.stmts) >= maxBatchStatements {
		return ap.flush(ctx)
	}
	return nil
}

func (ap *applier) queue(sql string, info stmtInfo, args ...any) {
	ap.batch.Queue(sql, args...)
	ap.stmts = append(ap.stmts, info)
}

// flush sends the queued transactions and counts what they changed.
func (ap *applier) flush(ctx context.Context) error {
	if ap.batchTxns == 0 {
		return nil
	}
	start := time.Now()
	defer func() { ap.applying += time.Since(start) }()
	br := ap.conn.SendBatch(ctx, ap.batch)
	var firstErr error
	var committed, rows, skipped int64
	for _, info := range ap.stmts {
		tag, err := br.Exec()
		if err != nil {
			firstErr = fmt.Errorf("apply txn at origin LSN %s on %s: %w", info.originLSN, ap.target, err)
			break
		}
		switch {
		case info.isChange && tag.RowsAffected() > 0:
			rows += tag.RowsAffected()
		case info.isChange:
			skipped++
		case tag.String() == "COMMIT":
			committed++
			ap.last = info.originLSN
		}
	}
	if err := br.Close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("apply batch on %s: %w", ap.target, err)
	}
	ap.txns += committed
	ap.rows += rows
	ap.skippedRows += skipped
	ap.batch, ap.stmts, ap.batchTxns = &pgx.Batch{}, nil, 0
	return firstErr
}

// lwwCond applies a change only over a row whose commit is older than the
// incoming one (or unknown, e.g. a frozen row): last update wins, as the
// replication itself resolves conflicts.
const lwwCond = "(pg_xact_commit_timestamp(cur.xmin) IS NULL OR pg_xact_commit_timestamp(cur.xmin) < $%d::timestamptz)"

// changeSQL builds the statement for one row change. Values travel as text
// and are cast to the target column's type, so any type round-trips the way
// pgoutput printed it.
func (ap *applier) changeSQL(ctx context.Context, c change, t *txn) (string, []any, error) {
	types, err := ap.types(ctx, c.rel)
	if err != nil {
		return "", nil, err
	}
	b := &stmtBuilder{target: ap.target, types: types, table: pgx.Identifier{c.rel.schema, c.rel.name}.Sanitize()}
	var sql string
	switch c.kind {
	case 'I':
		sql, err = b.insert(c, t)
	case 'U':
		sql, err = b.update(c, t)
	case 'D':
		sql, err = b.delete(c, t)
	default:
		err = fmt.Errorf("unknown change kind %q", c.kind)
	}
	if err != nil {
		return "", nil, err
	}
	return sql, b.args, nil
}

// stmtBuilder builds one change's statement on one table and collects
// its arguments.
type stmtBuilder struct {
	target string
	types  map[string]string // column -> type on the target
	table  string            // sanitized
	args   []any
}

// param adds v as an argument for column col and returns its placeholder,
// cast to the column's type.
func (b *stmtBuilder) param(col string, v value) (string, error) {
	typ, ok := b.types[col]
	if !ok {
		return "", fmt.Errorf("column %s of %s is missing on %s", col, b.table, b.target)
	}
	if v.kind == 'n' {
		b.args = append(b.args, nil)
	} else {
		b.args = append(b.args, v.text)
	}
	return fmt.Sprintf("$%d::text::%s", len(b.args), typ), nil
}

// keyWhere is the condition that finds the row by its key columns' vals.
func (b *stmtBuilder) keyWhere(rel *relation, vals []value) (string, error) {
	var parts []string
	for i, col := range rel.cols {
		if !col.key {
			continue
		}
		if vals[i].kind == 'u' {
			return "", fmt.Errorf("key column %s of %s not sent", col.name, b.table)
		}
		p, err := b.param(col.name, vals[i])
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("cur.%s = %s", pgx.Identifier{col.name}.Sanitize(), p))
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("table %s has no replica identity key", b.table)
	}
	return strings.Join(parts, " AND "), nil
}

// lww adds the transaction's commit time and returns the last-update-wins
// condition on it.
func (b *stmtBuilder) lww(t *txn) string {
	b.args = append(b.args, t.commitTime)
	return fmt.Sprintf(lwwCond, len(b.args))
}

func (b *stmtBuilder) insert(c change, t *txn) (string, error) {
	var cols, vals, sets, keys []string
	for i, col := range c.rel.cols {
		if c.new[i].kind == 'u' {
			continue
		}
		p, err := b.param(col.name, c.new[i])
		if err != nil {
			return "", err
		}
		id := pgx.Identifier{col.name}.Sanitize()
		cols, vals = append(cols, id), append(vals, p)
		sets = append(sets, id+" = EXCLUDED."+id)
		if col.key {
			keys = append(keys, id)
		}
	}
	sql := fmt.Sprintf("INSERT INTO %s AS cur (%s) VALUES (%s)", b.table, strings.Join(cols, ", "), strings.Join(vals, ", "))
	if len(keys) > 0 {
		sql += fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET %s WHERE ", strings.Join(keys, ", "), strings.Join(sets, ", ")) + b.lww(t)
	}
	return sql, nil
}

func (b *stmtBuilder) update(c change, t *txn) (string, error) {
	var sets []string
	for i, col := range c.rel.cols {
		if c.new[i].kind == 'u' {
			continue
		}
		p, err := b.param(col.name, c.new[i])
		if err != nil {
			return "", err
		}
		sets = append(sets, pgx.Identifier{col.name}.Sanitize()+" = "+p)
	}
	keySrc := c.old
	if keySrc == nil {
		keySrc = c.new
	}
	where, err := b.keyWhere(c.rel, keySrc)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("UPDATE %s AS cur SET %s WHERE %s AND ", b.table, strings.Join(sets, ", "), where) + b.lww(t), nil
}

func (b *stmtBuilder) delete(c change, t *txn) (string, error) {
	if c.old == nil {
		return "", fmt.Errorf("delete on %s without old key", b.table)
	}
	where, err := b.keyWhere(c.rel, c.old)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("DELETE FROM %s AS cur WHERE %s AND ", b.table, where) + b.lww(t), nil
}

// preloadTypes queues into b a read of the column types of the user
// tables (up to preloadColumns columns; those of a table cut short are
// dropped, to be looked up when needed), which fill ap's cache when b
// runs.
func (ap *applier) preloadTypes(b *pgx.Batch) {
	b.Queue(pgnode.PreloadTypesSQL, pgnode.PreloadColumns).Query(func(rows pgx.Rows) error {
		got := map[string]map[string]string{}
		var key, name, typ, last string
		n := 0
		_, err := pgx.ForEachRow(rows, []any{&key, &name, &typ}, func() error {
			if got[key] == nil {
				got[key] = map[string]string{}
			}
			got[key][name] = typ
			last = key
			n++
			return nil
		})
		if err != nil {
			return fmt.Errorf("read column types on %s: %w", ap.target, err)
		}
		if n == pgnode.PreloadColumns {
			delete(got, last)
		}
		maps.Copy(ap.colTypes, got)
		return nil
	})
}

// types returns the target's column types of rel, read once (unless
// preloadTypes read them).
func (ap *applier) types(ctx context.Context, rel *relation) (map[string]string, error) {
	key := rel.schema + "." + rel.name
	if t, ok := ap.colTypes[key]; ok {
		return t, nil
	}
	rows, err := ap.conn.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, pgx.Identifier{rel.schema, rel.name}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read columns of %s on %s: %w", key, ap.target, err)
	}
	t := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read columns of %s on %s: %w", key, ap.target, err)
		}
		t[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %s on %s: %w", key, ap.target, err)
	}
	if len(t) == 0 {
		return nil, errors.New("table " + key + " not found on " + ap.target)
	}
	ap.colTypes[key] = t
	return t, nil
}
