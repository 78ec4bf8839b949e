package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/verify"
)

// verifyTableLoad (re)creates VerifyTable and fills it with %d rows.
const verifyTableLoad = `DROP TABLE IF EXISTS ` + VerifyTable + `;
CREATE TABLE ` + VerifyTable + ` (id bigint PRIMARY KEY, i int NOT NULL, n numeric, t text, ts timestamptz,
  ok bool, j jsonb, by bytea, u uuid);
INSERT INTO ` + VerifyTable + ` SELECT g, g %% 100000, round(g / 3.0, 3),
  CASE WHEN g %% 50 = 0 THEN NULL ELSE 'row ' || g || ' ' || repeat('x', (g %% 20)::int) END,
  timestamptz '2026-01-01 00:00:00+00' + g * interval '1.000001 second', g %% 3 = 0,
  jsonb_build_object('g', g, 'tag', 't' || (g %% 17)), int8send(g), md5(g::text)::uuid
FROM generate_series(1, %d) g`

// difference is one injected difference: an SQL statement on one node
// (by index) touching one key.
type difference struct {
	node int
	id   int64
	sql  string
}

// differences are the differences injected into a table of rows rows on
// nodes nodes: a delete, an insert past the last key, and updates that
// change text, timestamps by a microsecond, numeric scale and jsonb.
func differences(rows int64, nodes int) []difference {
	at := func(frac float64) int64 { return max(1, int64(float64(rows)*frac)) }
	t := VerifyTable
	return []difference{
		{1 % nodes, at(0.11), "DELETE FROM " + t + " WHERE id = $1"},
		{2 % nodes, at(0.37), "UPDATE " + t + " SET t = coalesce(t, '') || '!' WHERE id = $1"},
		{0, rows + 1, "INSERT INTO " + t + " (id, i) VALUES ($1, 0)"},
		{1 % nodes, at(0.58), "UPDATE " + t + " SET ts = ts + interval '1 microsecond' WHERE id = $1"},
		{2 % nodes, at(0.73), "UPDATE " + t + " SET n = n::numeric(20, 5) WHERE id = $1"},
		{0, at(0.91), "UPDATE " + t + " SET j = j || '{\"tag\": \"other\"}' WHERE id = $1"},
	}
}

// loadTable creates and fills VerifyTable on every target at once.
func loadTable(ctx context.Context, targets []verify.Target, rows int64) error {
	return onEachTarget(ctx, targets, func(ctx context.Context, i int, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, fmt.Sprintf(verifyTableLoad, rows), pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return fmt.Errorf("load %d rows on %s: %w", rows, targets[i].Name, err)
		}
		// Statistics size the first ranges; VACUUM cannot run in the load's implicit transaction.
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE "+VerifyTable); err != nil {
			return fmt.Errorf("vacuum on %s: %w", targets[i].Name, err)
		}
		return nil
	})
}

// dropTable drops VerifyTable on every target.
func dropTable(ctx context.Context, targets []verify.Target) error {
	return onEachTarget(ctx, targets, func(ctx context.Context, i int, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+VerifyTable)
		return err
	})
}

// inject applies diffs and returns the keys they touched.
func inject(ctx context.Context, targets []verify.Target, diffs []difference) (map[int64]bool, error) {
	want := map[int64]bool{}
	for _, d := range diffs {
		conn, err := pgx.Connect(ctx, targets[d.node].DSN)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", targets[d.node].Name, err)
		}
		_, err = conn.Exec(ctx, d.sql, d.id)
		conn.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("inject difference at id %d on %s: %w", d.id, targets[d.node].Name, err)
		}
		want[d.id] = true
	}
	return want, nil
}

// onEachTarget runs fn on a connection to every target at once.
func onEachTarget(ctx context.Context, targets []verify.Target, fn func(context.Context, int, *pgx.Conn) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range targets {
		g.Go(func() error {
			conn, err := pgx.Connect(gctx, t.DSN)
			if err != nil {
				return fmt.Errorf("connect to %s: %w", t.Name, err)
			}
			defer conn.Close(context.WithoutCancel(gctx))
			return fn(gctx, i, conn)
		})
	}
	return g.Wait()
}
