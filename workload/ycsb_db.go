package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// ycsbExec runs the binding's ops: live on a client, or in Plan on nothing.
type ycsbExec interface {
	// record invokes, executes and completes spec.
	record(ctx context.Context, spec opSpec) Outcome
	// query executes a read without recording it (see ycsbDB.Read).
	query(ctx context.Context, spec opSpec) Outcome
	// recordDone records an already executed read: invoke then completion.
	recordDone(spec opSpec, out Outcome)
}

// ycsbDB is our go-ycsb binding (ycsb.DB) on pgx, one per client thread.
// go-ycsb's read-modify-write is a Read then an Update of the same key;
// to record it as one op "ycsb-read-modify-write" the binding holds a
// read back until it knows whether an update of that key follows, then
// records it (as "ycsb-read", timed after the fact: reads change nothing).
type ycsbDB struct {
	exec    ycsbExec
	pending *pendingRead
}

type pendingRead struct {
	spec opSpec
	out  Outcome
}

var errYCSB = errors.New("ycsb op did not succeed")

func ycsbValue(key string) map[string]string { return map[string]string{"key": key} }

func (d *ycsbDB) flush() {
	if d.pending != nil {
		d.exec.recordDone(d.pending.spec, d.pending.out)
		d.pending = nil
	}
}

func outcomeErr(out Outcome) error {
	if out.Type == history.Ok {
		return nil
	}
	return fmt.Errorf("%w: %s", errYCSB, out.Error)
}

func (d *ycsbDB) Close() error { return nil }

func (d *ycsbDB) InitThread(ctx context.Context, _, _ int) context.Context { return ctx }

func (d *ycsbDB) CleanupThread(context.Context) { d.flush() }

// ycsbFields is fields, or every field of the table when none is named.
func ycsbFields(fields []string) []string {
	if len(fields) == 0 {
		return []string{"field0", "field1", "field2", "field3", "field4", "field5", "field6", "field7", "field8", "field9"}
	}
	return fields
}

// ycsbColumns validates go-ycsb's field names (field0..field9) and quotes
// them; anything else is refused rather than spliced into SQL.
func ycsbColumns(fields []string) ([]string, error) {
	fields = ycsbFields(fields)
	out := make([]string, len(fields))
	for i, f := range fields {
		if !strings.HasPrefix(f, "field") || len(f) != 6 || f[5] < '0' || f[5] > '9' {
			return nil, fmt.Errorf("ycsb: unexpected field %q", f)
		}
		out[i] = pgx.Identifier{f}.Sanitize()
	}
	return out, nil
}

func scanRows(rows pgx.Rows, fields []string) ([]map[string][]byte, error) {
	defer rows.Close()
	var out []map[string][]byte
	for rows.Next() {
		vals := make([]*string, len(fields))
		dest := make([]any, len(fields))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		m := make(map[string][]byte, len(fields))
		for i, f := range fields {
			if vals[i] != nil {
				m[f] = []byte(*vals[i])
			}
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (d *ycsbDB) Read(ctx context.Context, table, key string, fields []string) (map[string][]byte, error) {
	d.flush()
	fields = ycsbFields(fields)
	cols, err := ycsbColumns(fields)
	if err != nil {
		return nil, err
	}
	var result map[string][]byte
	spec := opSpec{F: "ycsb-read", Value: ycsbValue(key), ReadOnly: true,
		Exec: func(ctx context.Context, conn *pgx.Conn, _ func()) error {
			rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE ycsb_key = $1", strings.Join(cols, ", "), pgx.Identifier{table}.Sanitize()), key)
			if err != nil {
				return err
			}
			got, err := scanRows(rows, fields)
			if len(got) > 0 {
				result = got[0]
			}
			return err
		}}
	out := d.exec.query(ctx, spec)
	d.pending = &pendingRead{spec: spec, out: out}
	return result, outcomeErr(out)
}

func (d *ycsbDB) Scan(ctx context.Context, table, startKey string, count int, fields []string) ([]map[string][]byte, error) {
	d.flush()
	fields = ycsbFields(fields)
	cols, err := ycsbColumns(fields)
	if err != nil {
		return nil, err
	}
	var result []map[string][]byte
	out := d.exec.record(ctx, opSpec{F: "ycsb-scan", Value: ycsbValue(startKey), ReadOnly: true,
		Exec: func(ctx context.Context, conn *pgx.Conn, _ func()) error {
			rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE ycsb_key >= $1 ORDER BY ycsb_key LIMIT $2", strings.Join(cols, ", "), pgx.Identifier{table}.Sanitize()), startKey, count)
			if err != nil {
				return err
			}
			result, err = scanRows(rows, fields)
			return err
		}})
	return result, outcomeErr(out)
}

func (d *ycsbDB) Update(ctx context.Context, table, key string, values map[string][]byte) error {
	f := "ycsb-update"
	if d.pending != nil && d.pending.out.Type == history.Ok && d.pending.spec.Value.(map[string]string)["key"] == key {
		f = "ycsb-read-modify-write"
		d.pending = nil
	}
	d.flush()
	cols, args, err := ycsbArgs(key, values)
	if err != nil {
		return err
	}
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = fmt.Sprintf("%s = $%d", c, i+2)
	}
	sql := fmt.Sprintf("UPDATE %s SET %s WHERE ycsb_key = $1", pgx.Identifier{table}.Sanitize(), strings.Join(sets, ", "))
	out := d.exec.record(ctx, opSpec{F: f, Value: ycsbValue(key), Exec: autocommit(sql, args, nil)})
	return outcomeErr(out)
}

func (d *ycsbDB) Insert(ctx context.Context, table, key string, values map[string][]byte) error {
	d.flush()
	cols, args, err := ycsbArgs(key, values)
	if err != nil {
		return err
	}
	ph := make([]string, len(cols))
	for i := range cols {
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	sql := fmt.Sprintf("INSERT INTO %s (ycsb_key, %s) VALUES ($1, %s)", pgx.Identifier{table}.Sanitize(), strings.Join(cols, ", "), strings.Join(ph, ", "))
	out := d.exec.record(ctx, opSpec{F: "ycsb-insert", Value: ycsbValue(key), Exec: autocommit(sql, args, nil)})
	return outcomeErr(out)
}

func (d *ycsbDB) Delete(ctx context.Context, table, key string) error {
	d.flush()
	sql := fmt.Sprintf("DELETE FROM %s WHERE ycsb_key = $1", pgx.Identifier{table}.Sanitize())
	out := d.exec.record(ctx, opSpec{F: "ycsb-delete", Value: ycsbValue(key), Exec: autocommit(sql, []any{key}, nil)})
	return outcomeErr(out)
}

// liveExec runs the binding's ops on a client.
type liveExec struct{ c *client }

func (l liveExec) record(ctx context.Context, spec opSpec) Outcome {
	if !l.c.ensureConn(ctx) {
		return Outcome{Type: history.Fail, Reason: "no_connection", Error: "no connection to " + l.c.node().Name}
	}
	return l.c.do(ctx, spec)
}

func (l liveExec) query(ctx context.Context, spec opSpec) Outcome {
	if !l.c.ensureConn(ctx) {
		return Outcome{Type: history.Fail, Reason: "no_connection", Error: "no connection to " + l.c.node().Name}
	}
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.c.cfg.OpTimeout)
	defer cancel()
	err := spec.Exec(opCtx, l.c.conn, func() {})
	out := Classify(err, BeforeCommit)
	if err != nil && (l.c.conn.IsClosed() || !isServerError(err)) {
		l.c.dropConn()
	}
	return out
}

func (l liveExec) recordDone(spec opSpec, out Outcome) {
	inv := l.c.cfg.Recorder.Invoke(l.c.process, l.c.node().Name, spec.F, spec.Value, spec.TxnID)
	errText := ""
	if out.Type != history.Ok {
		errText = out.Reason + ": " + out.Error
	}
	l.c.cfg.Recorder.Complete(inv, out.Type, nil, errText)
	l.c.stats.complete(l.c.node().Name, out)
}

// ycsbArgs orders a write's fields by name and returns their columns and
// the statement arguments: the key ($1), then each field's value ($2...).
func ycsbArgs(key string, values map[string][]byte) ([]string, []any, error) {
	fields := slices.Sorted(maps.Keys(values))
	cols, err := ycsbColumns(fields)
	if err != nil {
		return nil, nil, err
	}
	args := []any{key}
	for _, f := range fields {
		args = append(args, string(values[f]))
	}
	return cols, args, nil
}
