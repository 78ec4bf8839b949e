package campaign_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("sharding", func() {
	gate := func() campaign.Matrix {
		var names []string
		for _, s := range scenarios.All() {
			names = append(names, s.Name)
		}
		return campaign.Matrix{Scenarios: names, Seeds: campaign.SeedsFrom(1, 10), Repeat: 2}.Normalize()
	}

	It("parses I/N, 1-based, and refuses anything else", func() {
		s, err := campaign.ParseShard("2/4")
		Expect(err).NotTo(HaveOccurred())
		Expect(s).To(Equal(campaign.Shard{Index: 2, Count: 4}))
		Expect(s.String()).To(Equal("2/4"))
		for _, bad := range []string{"0/4", "5/4", "4", "a/b", "1/0", "-1/2"} {
			_, err := campaign.ParseShard(bad)
			Expect(err).To(HaveOccurred(), bad)
		}
	})

	It("puts every cell in exactly one shard, for any shard count", func() {
		m := gate()
		all := m.Cells()
		for n := 1; n <= 9; n++ {
			seen := map[string]int{}
			for i := 1; i <= n; i++ {
				for _, c := range m.ShardCells(campaign.Shard{Index: i, Count: n}) {
					seen[c.ID()]++
				}
			}
			Expect(seen).To(HaveLen(len(all)), "shards of %d", n)
			for id, k := range seen {
				Expect(k).To(Equal(1), "cell %s in %d shards of %d", id, k, n)
			}
		}
	})

	It("is deterministic: a function of the matrix and the shard count only", func() {
		m := gate()
		for i := 1; i <= 4; i++ {
			s := campaign.Shard{Index: i, Count: 4}
			Expect(m.ShardCells(s)).To(Equal(gate().ShardCells(s)))
		}
	})

	It("balances the estimated work: no shard exceeds another by more than the longest cell", func() {
		m := gate()
		var longest time.Duration
		for _, c := range m.Cells() {
			longest = max(longest, m.EstimatedCost(c))
		}
		for _, n := range []int{2, 3, 4, 7} {
			var lo, hi time.Duration
			for i := 1; i <= n; i++ {
				var sum time.Duration
				for _, c := range m.ShardCells(campaign.Shard{Index: i, Count: n}) {
					sum += m.EstimatedCost(c)
				}
				if i == 1 || sum < lo {
					lo = sum
				}
				hi = max(hi, sum)
			}
			Expect(hi-lo).To(BeNumerically("<=", longest), "shards of %d: %s..%s", n, lo, hi)
		}
	})

	It("splits equal cells round robin, sizes differing by at most one, each shard in canonical order", func() {
		m := campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: campaign.SeedsFrom(3, 10)}.Normalize()
		all := m.Cells()
		pos := map[string]int{}
		for i, c := range all {
			pos[c.ID()] = i
		}
		sizes := map[int]bool{}
		for i := 1; i <= 3; i++ {
			cells := m.ShardCells(campaign.Shard{Index: i, Count: 3})
			sizes[len(cells)] = true
			for j := 1; j < len(cells); j++ {
				Expect(pos[cells[j].ID()]).To(BeNumerically(">", pos[cells[j-1].ID()]), fmt.Sprint(cells))
			}
		}
		Expect(sizes).To(Equal(map[int]bool{3: true, 4: true}), "10 cells in 3 shards: 4, 3, 3")
	})
})
