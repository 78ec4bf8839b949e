package campaign

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/scenarios"
)

// Shard is "shard Index of Count" (1-based, as in --shard 2/4). The zero
// Shard is the whole campaign.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N" with 1 <= I <= N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || cnt < 1 || idx < 1 || idx > cnt {
		return Shard{}, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N, e.g. 2/4", s)
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// Whole reports whether s is the whole campaign.
func (s Shard) Whole() bool { return s.Count <= 1 }

func (s Shard) String() string {
	if s.Whole() {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ShardCells returns the cells of shard s of the matrix, in canonical
// order: Partition of Cells by EstimatedCost.
func (m Matrix) ShardCells(s Shard) []Cell {
	cells := m.Cells()
	if s.Whole() {
		return cells
	}
	return Partition(cells, s.Count, m.EstimatedCost)[s.Index-1]
}

// Partition splits cells into n shards, deterministically (a function of
// the cells and n only) and balanced by estimated cost: the longest cells
// first, each to the shard with the least estimated work so far (ties to
// the lowest shard; equal cells tie-break on the canonical order). Every
// cell lands in exactly one shard; each shard keeps the canonical order.
// With equal costs this is a round robin, so shard sizes differ by at
// most one.
func Partition(cells []Cell, n int, cost func(Cell) time.Duration) [][]Cell {
	type item struct {
		pos  int
		cost time.Duration
	}
	items := make([]item, len(cells))
	for i, c := range cells {
		items[i] = item{i, cost(c)}
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if a.cost != b.cost {
			if a.cost > b.cost {
				return -1
			}
			return 1
		}
		return a.pos - b.pos
	})
	load := make([]time.Duration, n)
	owner := make([]int, len(cells))
	for _, it := range items {
		best := 0
		for s := 1; s < n; s++ {
			if load[s] < load[best] {
				best = s
			}
		}
		load[best] += it.cost
		owner[it.pos] = best
	}
	out := make([][]Cell, n)
	for i, c := range cells {
		out[owner[i]] = append(out[owner[i]], c)
	}
	return out
}

// Per-run costs the estimate adds to the load: bring-up of a node
// (image, flavor, slots, barrier) and the fixed phases (quiesce, verify,
// report, removal), as measured on the 2-core development machine.
const (
	costPerNode = 4 * time.Second
	costFixed   = 8 * time.Second
)

// EstimatedCost is what cell c is expected to take: its load plus the
// per-node bring-up and fixed phases (with the matrix's overrides of
// duration and nodes). It only balances shards; nothing waits on it.
func (m Matrix) EstimatedCost(c Cell) time.Duration {
	spec, err := scenarios.Lookup(c.Scenario)
	if err != nil {
		return costFixed
	}
	load, nodes := spec.Load, spec.Nodes
	if m.Duration > 0 {
		load = m.Duration
	}
	if m.Nodes > 0 {
		nodes = m.Nodes
	}
	return load + time.Duration(nodes)*costPerNode + costFixed
}
