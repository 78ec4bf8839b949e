package verify

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
)

// Limits of the range refinement.
const (
	maxBuckets  = 1 << 16 // buckets per hashing pass and per split
	maxDepth    = 8       // splits before a range is fetched whatever its size
	maxModulus  = math.MaxInt64 / maxBuckets
	noPKNote    = "no primary key: compared by whole-table hash; row-level detail is unavailable"
	pkDiffNote  = "primary key differs between nodes: compared by whole-table hash; row-level detail is unavailable"
	onlyOneNote = "present on one node only: nothing to compare its rows with"
)

// tableComparison compares one table on the nodes that have it.
type tableComparison struct {
	opts  ConvergenceOptions
	plan  tablePlan
	names []string    // all node names, in target order
	snaps []*snapshot // the snapshots of plan.present, in the same order
	res   TableResult
	// classes group every differing row (see DivergenceClass), by shape.
	classes map[string]*DivergenceClass
}

// bucketStat is one node's summary of one bucket.
type bucketStat struct {
	count int64
	hash  int64
}

// bucket is a range that differs: its residue and the most rows any node
// has in it.
type bucket struct {
	residue  int64
	maxCount int64
}

func (tc *tableComparison) run(ctx context.Context) (TableResult, error) {
	p := tc.plan
	tc.res = TableResult{Table: p.def.qualified(), Status: TableConverged, RowCounts: map[string]int64{}}
	if len(p.missingOn) > 0 {
		tc.res.MissingOn = p.missingOn
	}
	tc.res.Notes = append(tc.res.Notes, p.schemaNotes...)
	if len(tc.snaps) < 2 {
		tc.res.Notes = append(tc.res.Notes, onlyOneNote)
		tc.res.Status = TableMissing
		return tc.res, nil
	}
	var err error
	switch {
	case len(p.def.PK) == 0:
		tc.res.NoPrimaryKey = true
		tc.res.Notes = append(tc.res.Notes, noPKNote)
		err = tc.compareWhole(ctx)
	case !pkComparable(p):
		tc.res.Notes = append(tc.res.Notes, pkDiffNote)
		err = tc.compareWhole(ctx)
	default:
		err = tc.compareRanges(ctx)
	}
	if err != nil {
		return TableResult{}, err
	}
	switch {
	case len(p.missingOn) > 0:
		tc.res.Status = TableMissing
	case len(p.schemaNotes) > 0:
		tc.res.Status = TableSchemaDiffers
	}
	return tc.res, nil
}

// pkComparable: every node has the same key and every key column is
// among the common columns.
func pkComparable(p tablePlan) bool {
	for _, n := range p.schemaNotes {
		if strings.HasPrefix(n, "primary key") {
			return false
		}
	}
	for _, k := range p.def.PK {
		if !slices.ContainsFunc(p.def.Columns, func(c column) bool { return c.Name == k }) {
			return false
		}
	}
	return true
}

func (tc *tableComparison) compareWhole(ctx context.Context) error {
	type whole struct {
		count int64
		sum   string
	}
	got := make([]whole, len(tc.snaps))
	q := wholeTableHashSQL(tc.plan.def)
	err := onEachSnapshot(ctx, tc.snaps, func(ctx context.Context, i int, s *snapshot) error {
		w := &got[i]
		if err := s.tx.QueryRow(ctx, q).Scan(&w.count, &w.sum); err != nil {
			return fmt.Errorf("hash table on %s: %w", s.target.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	tc.res.RangesHashed = 1
	for i, s := range tc.snaps {
		tc.res.RowCounts[s.target.Name] = got[i].count
		if got[i] != got[0] {
			tc.res.Status = TableDiffers
			tc.res.DifferingRows = 1
		}
	}
	return nil
}

// compareRanges hashes buckets of the key space on every node, splits the
// buckets that differ until they are small, then fetches and diffs them.
func (tc *tableComparison) compareRanges(ctx context.Context) error {
	leaf := tc.opts.LeafRows
	// Buckets of leaf/2 rows on average: few exceed leaf, so a differing
	// bucket rarely costs a splitting pass (each pass scans the table).
	modulus := clamp(2*int64(math.Ceil(tc.plan.def.Reltuples/float64(leaf))), 1, maxBuckets)
	t0 := time.Now()
	stats, err := tc.hashBuckets(ctx, modulus, 0, nil)
	if err != nil {
		return err
	}
	slog.Debug("hashed ranges", "table", tc.res.Table, "modulus", modulus, "elapsed", time.Since(t0))
	for i, s := range tc.snaps {
		var n int64
		for _, st := range stats[i] {
			n += st.count
		}
		tc.res.RowCounts[s.target.Name] = n
	}
	leaves := map[int64][]bucket{} // modulus -> buckets to fetch
	differing := differingBuckets(stats)
	for depth := 0; len(differing) > 0; depth++ {
		var split []bucket
		var biggest int64
		for _, b := range differing {
			if b.maxCount <= leaf || depth >= maxDepth || modulus > maxModulus {
				leaves[modulus] = append(leaves[modulus], b)
				continue
			}
			split = append(split, b)
			biggest = max(biggest, b.maxCount)
		}
		if len(split) == 0 {
			break
		}
		fan := clamp((biggest+leaf-1)/leaf, 2, maxBuckets)
		parents := make([]int64, len(split))
		for i, b := range split {
			parents[i] = b.residue
		}
		stats, err = tc.hashBuckets(ctx, modulus*fan, modulus, parents)
		if err != nil {
			return err
		}
		modulus *= fan
		differing = differingBuckets(stats)
		slog.Debug("split ranges", "table", tc.res.Table, "modulus", modulus, "split", len(split), "differing", len(differing), "elapsed", time.Since(t0))
	}
	moduli := make([]int64, 0, len(leaves))
	for m := range leaves {
		moduli = append(moduli, m)
	}
	slices.Sort(moduli)
	for _, m := range moduli {
		if err := tc.fetchAndDiff(ctx, m, leaves[m]); err != nil {
			return err
		}
		slog.Debug("fetched and diffed ranges", "table", tc.res.Table, "modulus", m, "ranges", len(leaves[m]), "elapsed", time.Since(t0))
	}
	if tc.res.DifferingRows > 0 {
		tc.res.Status = TableDiffers
	}
	return nil
}

// hashBuckets runs one hashing pass on every node in parallel.
func (tc *tableComparison) hashBuckets(ctx context.Context, modulus, parentModulus int64, parents []int64) ([]map[int64]bucketStat, error) {
	q := bucketHashSQL(tc.plan.def, modulus, parentModulus, parents != nil)
	var args []any
	if parents != nil {
		args = append(args, parents)
	}
	out := make([]map[int64]bucketStat, len(tc.snaps))
	err := onEachSnapshot(ctx, tc.snaps, func(ctx context.Context, i int, s *snapshot) error {
		rows, err := s.tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("hash ranges (modulus %d) on %s: %w", modulus, s.target.Name, err)
		}
		defer rows.Close()
		m := map[int64]bucketStat{}
		for rows.Next() {
			var r int64
			var st bucketStat
			if err := rows.Scan(&r, &st.count, &st.hash); err != nil {
				return fmt.Errorf("hash ranges (modulus %d) on %s: %w", modulus, s.target.Name, err)
			}
			m[r] = st
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("hash ranges (modulus %d) on %s: %w", modulus, s.target.Name, err)
		}
		out[i] = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	n := 0
	for _, m := range out {
		n = max(n, len(m))
	}
	tc.res.RangesHashed += int64(n)
	return out, nil
}

// differingBuckets lists the buckets whose summary is not the same on
// every node (a bucket absent on a node differs), sorted by residue.
func differingBuckets(stats []map[int64]bucketStat) []bucket {
	all := map[int64]int64{}
	for _, m := range stats {
		for r, st := range m {
			all[r] = max(all[r], st.count)
		}
	}
	var out []bucket
	for r, maxCount := range all {
		first, ok0 := stats[0][r]
		same := ok0
		for _, m := range stats[1:] {
			st, ok := m[r]
			if !ok || st != first {
				same = false
				break
			}
		}
		if !same {
			out = append(out, bucket{residue: r, maxCount: maxCount})
		}
	}
	slices.SortFunc(out, func(a, b bucket) int { return cmpInt64(a.residue, b.residue) })
	return out
}

func clamp(v, lo, hi int64) int64 { return min(max(v, lo), hi) }

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
