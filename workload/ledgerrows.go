package workload

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// WriteLedgerTxns commits txns ledger transactions of rows rows each on
// the node at dsn (origin: its name), with txn ids <prefix>-<i>,
// pipelined (each its own transaction, commits not waiting for the
// disk): a burst for benchmarks and recovery specs, outside any history.
func WriteLedgerTxns(ctx context.Context, dsn, origin, prefix string, txns, rows int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("write ledger transactions on %s: %w", origin, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off"); err != nil {
		return err
	}
	const perBatch = 500
	for start := 0; start < txns; start += perBatch {
		b := &pgx.Batch{}
		for i := start; i < min(start+perBatch, txns); i++ {
			b.Queue("BEGIN")
			b.Queue(`INSERT INTO ledger (txn_id, seq, origin, payload)
SELECT $1, s, $2, md5($1 || s) FROM generate_series(1, $3::int) s`, fmt.Sprintf("%s-%d", prefix, i), origin, rows)
			b.Queue("COMMIT")
		}
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("write ledger transactions on %s: %w", origin, err)
		}
	}
	return nil
}

// LedgerXmins returns, for every ledger row on the node at dsn (named
// node) whose txn_id starts with prefix, the xmin of its current version:
// a row applied again (replication sending what recovery already
// replayed) gets a new xmin.
func LedgerXmins(ctx context.Context, dsn, node, prefix string) (map[string]string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("read ledger xmins on %s: %w", node, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT txn_id || '/' || seq, xmin::text FROM ledger WHERE starts_with(txn_id, $1)", prefix)
	if err != nil {
		return nil, fmt.Errorf("read ledger xmins on %s: %w", node, err)
	}
	out := map[string]string{}
	var k, x string
	_, err = pgx.ForEachRow(rows, []any{&k, &x}, func() error { out[k] = x; return nil })
	return out, err
}

// Reapplied names the keys whose row version changed between two
// LedgerXmins readings, or vanished, sorted.
func Reapplied(before, after map[string]string) []string {
	var out []string
	for k, x := range before {
		if after[k] != x {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
