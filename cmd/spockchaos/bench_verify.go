package main

import (
	"context"
	binenc "encoding/binary"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
)

func init() { benchCommands = append(benchCommands, newBenchVerifyCmd) }

// benchVerifyTable is the table the benchmark creates (and drops) on
// every server: mixed column types, bigint key.
const benchVerifyTable = "spockchaos_bench_verify"

const benchVerifyLoad = `DROP TABLE IF EXISTS ` + benchVerifyTable + `;
CREATE TABLE ` + benchVerifyTable + ` (id bigint PRIMARY KEY, i int NOT NULL, n numeric, t text, ts timestamptz,
  ok bool, j jsonb, by bytea, u uuid);
INSERT INTO ` + benchVerifyTable + ` SELECT g, g %% 100000, round(g / 3.0, 3),
  CASE WHEN g %% 50 = 0 THEN NULL ELSE 'row ' || g || ' ' || repeat('x', (g %% 20)::int) END,
  timestamptz '2026-01-01 00:00:00+00' + g * interval '1.000001 second', g %% 3 = 0,
  jsonb_build_object('g', g, 'tag', 't' || (g %% 17)), int8send(g), md5(g::text)::uuid
FROM generate_series(1, %d) g`

// benchDifference is one injected difference: an SQL statement on one node
// (by index) touching one key.
type benchDifference struct {
	node int
	id   int64
	sql  string
}

func benchDifferences(rows int64, nodes int) []benchDifference {
	at := func(frac float64) int64 { return max(1, int64(float64(rows)*frac)) }
	t := benchVerifyTable
	d := []benchDifference{
		{1 % nodes, at(0.11), "DELETE FROM " + t + " WHERE id = $1"},
		{2 % nodes, at(0.37), "UPDATE " + t + " SET t = coalesce(t, '') || '!' WHERE id = $1"},
		{0, rows + 1, "INSERT INTO " + t + " (id, i) VALUES ($1, 0)"},
		{1 % nodes, at(0.58), "UPDATE " + t + " SET ts = ts + interval '1 microsecond' WHERE id = $1"},
		{2 % nodes, at(0.73), "UPDATE " + t + " SET n = n::numeric(20, 5) WHERE id = $1"},
		{0, at(0.91), "UPDATE " + t + " SET j = j || '{\"tag\": \"other\"}' WHERE id = $1"},
	}
	return d
}

func newBenchVerifyCmd() *cobra.Command {
	var (
		cf     clusterFlags
		rows   int64
		runs   int
		dsns   []string
		shared bool
	)
	cmd := &cobra.Command{
		Use:   "verify --rows N [--dsn A --dsn B ...]",
		Short: "Time range-hash convergence checking against a naive row-by-row comparison",
		Long: `Loads N identical rows of mixed column types into a table ` + benchVerifyTable + `
on every server (plain nodes it starts, no replication; or the --dsn
servers, where the table is created and dropped again), injects a few
differences on single nodes, then times in the same run, --runs times each
and alternating, (a) verify's
range-hash comparison and (b) a naive comparison that fetches every row of
every node in key order and compares them in Go (streaming, k-way merge).
Prints both median times, the peak Go heap of each (runtime.MemStats.HeapAlloc
sampled every 5 ms), whether each found every injected difference, a floor
(every row hashed once on every node, no ranges: the least server work of
any method that hashes every row, so naive/floor bounds the speedup on this
machine), and last "speedup: X" (naive / range-hash).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rows < 10 {
				return fmt.Errorf("--rows must be at least 10")
			}
			if runs < 1 {
				return fmt.Errorf("--runs must be at least 1")
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			var targets []verify.Target
			if len(dsns) > 0 {
				if len(dsns) < 2 {
					return fmt.Errorf("give at least two --dsn, or none to start nodes")
				}
				targets = verify.TargetsFromDSNs(dsns)
			} else {
				cfg, err := cf.config()
				if err != nil {
					return err
				}
				cluster, err := harness.StartNodes(ctx, cfg)
				if err != nil {
					return err
				}
				defer func() {
					if err := cluster.Remove(context.WithoutCancel(ctx)); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "remove nodes:", err)
					}
				}()
				for _, n := range cluster.Nodes {
					targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
				}
			}
			return runBenchVerify(ctx, out, targets, rows, runs, shared || len(dsns) == 0)
		},
	}
	cf.register(cmd)
	cmd.Flags().Int64Var(&rows, "rows", 1_000_000, "rows per node")
	cmd.Flags().IntVar(&runs, "runs", 3, "measurements of each method, alternating; medians are compared")
	cmd.Flags().StringArrayVar(&dsns, "dsn", nil, "use these servers instead of starting nodes (two or more)")
	cmd.Flags().BoolVar(&shared, "shared-host", false, "with --dsn: the servers share one machine's cores (always so for the nodes the bench starts)")
	return cmd
}

// rangeHashCompare runs verify's comparison and returns the differing ids.
func rangeHashCompare(ctx context.Context, targets []verify.Target, sharedHost bool) (map[int64]bool, error) {
	rep, err := verify.Convergence(ctx, targets, verify.ConvergenceOptions{Tables: []string{"public." + benchVerifyTable}, SharedHost: sharedHost})
	if err != nil {
		return nil, err
	}
	found := map[int64]bool{}
	for _, t := range rep.Tables {
		for _, r := range t.Rows {
			if v := r.Key["id"]; v != nil {
				id, err := strconv.ParseInt(*v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("key %s: %w", *v, err)
				}
				found[id] = true
			}
		}
	}
	return found, nil
}

func runBenchVerify(ctx context.Context, out io.Writer, targets []verify.Target, rows int64, runs int, sharedHost bool) (err error) {
	t0 := time.Now()
	err = onEachTarget(ctx, targets, func(ctx context.Context, i int, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, fmt.Sprintf(benchVerifyLoad, rows), pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return fmt.Errorf("load %d rows on %s: %w", rows, targets[i].Name, err)
		}
		// Statistics size the first ranges; VACUUM cannot run in the load's implicit transaction.
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE "+benchVerifyTable); err != nil {
			return fmt.Errorf("vacuum on %s: %w", targets[i].Name, err)
		}
		return nil
	})
	defer func() {
		dropErr := onEachTarget(context.WithoutCancel(ctx), targets, func(ctx context.Context, i int, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+benchVerifyTable)
			return err
		})
		if err == nil && dropErr != nil {
			err = fmt.Errorf("drop %s: %w", benchVerifyTable, dropErr)
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loaded %d rows on each of %d nodes in %s\n", rows, len(targets), time.Since(t0).Round(time.Millisecond))
	diffs := benchDifferences(rows, len(targets))
	want := map[int64]bool{}
	for _, d := range diffs {
		conn, err := pgx.Connect(ctx, targets[d.node].DSN)
		if err != nil {
			return fmt.Errorf("connect to %s: %w", targets[d.node].Name, err)
		}
		_, err = conn.Exec(ctx, d.sql, d.id)
		conn.Close(ctx)
		if err != nil {
			return fmt.Errorf("inject difference at id %d on %s: %w", d.id, targets[d.node].Name, err)
		}
		want[d.id] = true
	}
	fmt.Fprintf(out, "injected %d differences on single nodes\n", len(diffs))

	var (
		ours, naive                       map[int64]bool
		oursTimes, naiveTimes, floorTimes []time.Duration
		oursPeak, naivePeak               uint64
	)
	// Alternate the methods so that a busy machine slows both alike.
	for i := range runs {
		d, peak, err := measure(func() error {
			var err error
			ours, err = rangeHashCompare(ctx, targets, sharedHost)
			return err
		})
		if err != nil {
			return fmt.Errorf("range-hash verification: %w", err)
		}
		oursTimes, oursPeak = append(oursTimes, d), max(oursPeak, peak)
		n, npeak, err := measure(func() error {
			var err error
			naive, err = naiveCompare(ctx, targets)
			return err
		})
		if err != nil {
			return fmt.Errorf("naive verification: %w", err)
		}
		naiveTimes, naivePeak = append(naiveTimes, n), max(naivePeak, npeak)
		f, _, err := measure(func() error { return hashEveryRowOnce(ctx, targets, sharedHost) })
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		floorTimes = append(floorTimes, f)
		fmt.Fprintf(out, "run %d: range-hash %s, naive %s, floor %s\n", i+1, d.Round(time.Millisecond), n.Round(time.Millisecond), f.Round(time.Millisecond))
	}
	oursTime, naiveTime, floorTime := median(oursTimes), median(naiveTimes), median(floorTimes)
	mb := func(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	fmt.Fprintf(out, "range-hash median: %s, peak heap %s, found %s\n", oursTime.Round(time.Millisecond), mb(oursPeak), foundText(want, ours))
	fmt.Fprintf(out, "naive (fetch all rows in key order, compare in Go) median: %s, peak heap %s, found %s\n", naiveTime.Round(time.Millisecond), mb(naivePeak), foundText(want, naive))
	fmt.Fprintln(out, "peak heap = max runtime.MemStats.HeapAlloc sampled every 5 ms (after a GC at start)")
	fmt.Fprintf(out, "floor (every row hashed once by hash_record_extended on every node, no ranges) median: %s; no method that hashes every row on the servers beats naive by more than %.2fx here\n",
		floorTime.Round(time.Millisecond), naiveTime.Seconds()/floorTime.Seconds())
	allFound := sameKeys(want, ours) && sameKeys(want, naive)
	fmt.Fprintf(out, "all injected differences found by both, nothing else: %t\n", allFound)
	fmt.Fprintf(out, "speedup: %.2f\n", naiveTime.Seconds()/oursTime.Seconds())
	if !allFound {
		return &exitError{code: exitFail, err: fmt.Errorf("a method missed an injected difference or reported another")}
	}
	return nil
}

// hashEveryRowOnce hashes every row of the bench table on every target at
// once with PostgreSQL's own row hash, in one aggregate: no ranges, no
// fix-ups for numeric scale or collations. It is the least work any
// comparison that hashes every row on the servers must do, so naive/floor
// bounds the speedup the range hash can reach on this machine.
func hashEveryRowOnce(ctx context.Context, targets []verify.Target, sharedHost bool) error {
	return onEachTarget(ctx, targets, func(ctx context.Context, i int, conn *pgx.Conn) error {
		if sharedHost {
			if _, err := conn.Exec(ctx, "SET max_parallel_workers_per_gather = 0"); err != nil {
				return fmt.Errorf("on %s: %w", targets[i].Name, err)
			}
		}
		var n, h int64
		if err := conn.QueryRow(ctx, "SELECT count(*), bit_xor(hash_record_extended(t.*, 0)) FROM "+benchVerifyTable+" t").Scan(&n, &h); err != nil {
			return fmt.Errorf("hash every row on %s: %w", targets[i].Name, err)
		}
		return nil
	})
}

// measure times fn and samples the Go heap while it runs.
func measure(fn func() error) (time.Duration, uint64, error) {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t0 := time.Now()
	err := fn()
	d := time.Since(t0)
	close(stop)
	<-done
	return d, peak.Load(), err
}

// naiveCompare reads every row of every node in key order, each node in
// one REPEATABLE READ snapshot, and merges the streams in Go, comparing
// each row's raw (binary) column values. It returns the differing ids.
func naiveCompare(ctx context.Context, targets []verify.Target) (map[int64]bool, error) {
	type stream struct {
		rows pgx.Rows
		id   int64
		vals [][]byte
		done bool
	}
	conns := make([]*pgx.Conn, len(targets))
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	streams := make([]*stream, len(targets))
	for i, t := range targets {
		c, err := pgx.Connect(ctx, t.DSN)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", t.Name, err)
		}
		conns[i] = c
		if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
			return nil, fmt.Errorf("begin on %s: %w", t.Name, err)
		}
		rows, err := c.Query(ctx, "SELECT id, i, n, t, ts, ok, j, by, u FROM "+benchVerifyTable+" ORDER BY id")
		if err != nil {
			return nil, fmt.Errorf("read rows on %s: %w", t.Name, err)
		}
		streams[i] = &stream{rows: rows}
	}
	advance := func(s *stream) error {
		if !s.rows.Next() {
			s.done = true
			return s.rows.Err()
		}
		raw := s.rows.RawValues()
		if len(raw[0]) != 8 {
			return fmt.Errorf("unexpected id encoding (%d bytes)", len(raw[0]))
		}
		s.id = int64(binenc.BigEndian.Uint64(raw[0]))
		s.vals = s.vals[:0]
		for _, v := range raw[1:] {
			if v == nil {
				s.vals = append(s.vals, nil)
			} else {
				s.vals = append(s.vals, slices.Clone(v))
			}
		}
		return nil
	}
	for _, s := range streams {
		if err := advance(s); err != nil {
			return nil, err
		}
	}
	differing := map[int64]bool{}
	for {
		var minID int64
		live := false
		for _, s := range streams {
			if !s.done && (!live || s.id < minID) {
				minID, live = s.id, true
			}
		}
		if !live {
			break
		}
		var ref *stream
		for _, s := range streams {
			switch {
			case s.done || s.id != minID:
				differing[minID] = true
			case ref == nil:
				ref = s
			case !slices.EqualFunc(s.vals, ref.vals, func(a, b []byte) bool { return (a == nil) == (b == nil) && string(a) == string(b) }):
				differing[minID] = true
			}
		}
		for _, s := range streams {
			if !s.done && s.id == minID {
				if err := advance(s); err != nil {
					return nil, err
				}
			}
		}
	}
	return differing, nil
}

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

func foundText(want, got map[int64]bool) string {
	n := 0
	for id := range want {
		if got[id] {
			n++
		}
	}
	extra := len(got) - n
	return fmt.Sprintf("%d/%d injected (%d other)", n, len(want), extra)
}

func sameKeys(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
