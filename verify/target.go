package verify

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// Target is one server to read: a name for reports and a DSN (URL or
// key=value form, anything pgx accepts).
type Target struct {
	Name string `json:"name"`
	DSN  string `json:"-"`
}

// canonicalSettings make every node print values the same way, so that a
// row's text is comparable across nodes: timestamps in UTC to the
// microsecond, floats exactly, bytea in hex.
var canonicalSettings = []string{
	"SET TimeZone = 'UTC'",
	"SET DateStyle = 'ISO, YMD'",
	"SET IntervalStyle = 'postgres'",
	"SET extra_float_digits = 3",
	"SET bytea_output = 'hex'",
	"SET client_encoding = 'UTF8'",
}

// planSettings keep the range-hash aggregation a hash aggregate in memory:
// a sort of every row, spilling to disk, was 5x slower on 300k rows (the
// fence in bucketHashSQL already makes the planner expect few groups;
// these hold where its estimate still goes wrong). They are applied after
// the catalog is read (they made that query 100x slower).
var planSettings = []string{
	"SET enable_sort = off",
	"SET work_mem = '64MB'",
}

// snapshot is one node read in one REPEATABLE READ READ ONLY transaction,
// held from open to close: every query sees the same consistent state.
type snapshot struct {
	target Target
	conn   *pgx.Conn
	tx     pgx.Tx
	// commitTS is whether track_commit_timestamp is on (else commit
	// timestamps and origins are reported as unknown).
	commitTS bool
	// origins maps raw row origins to node names (see origins.go).
	origins map[string]string
}

// openSnapshots connects to every target in parallel and opens a snapshot
// on each. On error every opened one is closed.
func openSnapshots(ctx context.Context, targets []Target) ([]*snapshot, error) {
	if err := checkTargets(targets); err != nil {
		return nil, err
	}
	snaps := make([]*snapshot, len(targets))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range targets {
		g.Go(func() error {
			s, err := openSnapshot(gctx, t)
			snaps[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		closeSnapshots(snaps)
		return nil, err
	}
	return snaps, nil
}

func checkTargets(targets []Target) error {
	if len(targets) < 2 {
		return fmt.Errorf("need at least 2 nodes to compare, got %d", len(targets))
	}
	seen := map[string]bool{}
	for _, t := range targets {
		if t.Name == "" {
			return fmt.Errorf("a target has no name")
		}
		if seen[t.Name] {
			return fmt.Errorf("two targets are called %s", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

func openSnapshot(ctx context.Context, t Target) (*snapshot, error) {
	cfg, err := pgx.ParseConfig(t.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse DSN of %s: %s", t.Name, oneLine(err))
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s:%d): %s", t.Name, cfg.Host, cfg.Port, oneLine(err))
	}
	s := &snapshot{target: t, conn: conn}
	for _, set := range canonicalSettings {
		if _, err := conn.Exec(ctx, set); err != nil {
			s.close()
			return nil, fmt.Errorf("%s on %s: %w", set, t.Name, err)
		}
	}
	var tcts string
	if err := conn.QueryRow(ctx, "SHOW track_commit_timestamp").Scan(&tcts); err != nil {
		s.close()
		return nil, fmt.Errorf("read track_commit_timestamp on %s: %w", t.Name, err)
	}
	s.commitTS = tcts == "on"
	if s.origins, err = originNames(ctx, conn); err != nil {
		s.close()
		return nil, fmt.Errorf("%w on %s", err, t.Name)
	}
	s.tx, err = conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("begin repeatable read snapshot on %s: %w", t.Name, err)
	}
	// The snapshot is taken by the first statement: take it now, so all
	// nodes' snapshots are as close in time as the connections allow.
	if _, err := s.tx.Exec(ctx, "SELECT 1"); err != nil {
		s.close()
		return nil, fmt.Errorf("take snapshot on %s: %w", t.Name, err)
	}
	return s, nil
}

// applyPlanSettings prepares the session for range hashing.
func (s *snapshot) applyPlanSettings(ctx context.Context, sharedHost bool) error {
	settings := planSettings
	if sharedHost {
		settings = append(slices.Clip(settings), "SET max_parallel_workers_per_gather = 0")
	}
	for _, set := range settings {
		if _, err := s.tx.Exec(ctx, set); err != nil {
			return fmt.Errorf("%s on %s: %w", set, s.target.Name, err)
		}
	}
	return nil
}

func (s *snapshot) close() {
	if s == nil || s.conn == nil {
		return
	}
	// ROLLBACK waits for the server's answer: bounded, so a node that
	// stopped answering (paused, partitioned) cannot hang the caller.
	ctx, cancel := context.WithTimeout(context.Background(), snapshotCloseTimeout)
	defer cancel()
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
	}
	_ = s.conn.Close(ctx)
}

// snapshotCloseTimeout bounds ending a snapshot's transaction.
const snapshotCloseTimeout = 10 * time.Second

func closeSnapshots(snaps []*snapshot) {
	for _, s := range snaps {
		s.close()
	}
}

// onEachSnapshot runs fn on every snapshot in parallel.
func onEachSnapshot(ctx context.Context, snaps []*snapshot, fn func(context.Context, int, *snapshot) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for i, s := range snaps {
		g.Go(func() error { return fn(gctx, i, s) })
	}
	return g.Wait()
}

// oneLine flattens an error for one-line messages (pgx errors can span
// lines when they quote the server).
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// TargetsFromDSNs names DSNs n1..nN in order, for the standalone CLI.
func TargetsFromDSNs(dsns []string) []Target {
	ts := make([]Target, len(dsns))
	for i, d := range dsns {
		ts[i] = Target{Name: fmt.Sprintf("n%d", i+1), DSN: d}
	}
	return ts
}

// DescribeDSN is host:port/db of a DSN without its password, for output.
func DescribeDSN(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		if u, uerr := url.Parse(dsn); uerr == nil {
			return u.Redacted()
		}
		return "(unparseable DSN)"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}
