package campaign_test

import (
	"context"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("merging shards", func() {
	var (
		root string
		m    campaign.Matrix
		fake *fakeRunner
	)
	BeforeEach(func() {
		root = GinkgoT().TempDir()
		m = campaign.Matrix{Scenarios: []string{"baseline", "kill-mid-load"}, Seeds: []int64{1, 2, 3}}.Normalize()
		fake = &fakeRunner{verdictOf: func(spec *scenarios.Spec, opts scenarios.Options, _ int) verify.Verdict {
			if spec.Name == "kill-mid-load" && opts.Seed == 2 {
				return verify.Fail
			}
			return verify.Pass
		}}
	})
	runShard := func(name string, s campaign.Shard) string {
		dir := filepath.Join(root, name)
		_, _, err := campaign.Run(context.Background(), dir, m, campaign.Options{Shard: s, Run: fake.run})
		Expect(err).NotTo(HaveOccurred())
		return dir
	}
	// essence is a cell without what differs between two runs of it.
	essence := func(c *campaign.Campaign) []campaign.CellResult {
		var out []campaign.CellResult
		for _, r := range c.Cells {
			r.Started, r.DurationSeconds, r.RunDir, r.Shard, r.Host = time.Time{}, 0, "", "", ""
			out = append(out, r)
		}
		return out
	}

	It("gives, from the shard folders, the campaign the unsharded run gives, cell for cell", func() {
		whole := runShard("whole", campaign.Shard{})
		a := runShard("s1", campaign.Shard{Index: 1, Count: 3})
		b := runShard("s2", campaign.Shard{Index: 2, Count: 3})
		c := runShard("s3", campaign.Shard{Index: 3, Count: 3})
		merged, rep, err := campaign.Merge(filepath.Join(root, "merged"), []string{a, b, c})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Duplicates).To(BeEmpty())
		Expect(rep.Copied[a] + rep.Copied[b] + rep.Copied[c]).To(Equal(6))
		unsharded, err := campaign.LoadIndex(whole)
		Expect(err).NotTo(HaveOccurred())
		Expect(essence(merged)).To(Equal(essence(unsharded)))
		Expect(merged.Selection).To(Equal("all"))
		Expect(merged.ExitCode()).To(Equal(campaign.ExitUnmet))
		for _, r := range merged.Cells {
			Expect(filepath.Join(root, "merged", r.RunDir, "report.html")).To(BeARegularFile(), "the merged folder is self-contained")
		}
		Expect(filepath.Join(root, "merged", "campaign.html")).To(BeARegularFile())
	})

	It("shows the cells no shard ran as pending, and exits 2", func() {
		fake.verdictOf = nil // every run passes, as every scenario here expects
		a := runShard("s1", campaign.Shard{Index: 1, Count: 2})
		merged, _, err := campaign.Merge(filepath.Join(root, "merged"), []string{a})
		Expect(err).NotTo(HaveOccurred())
		Expect(merged.Totals.Pending).To(Equal(len(m.ShardCells(campaign.Shard{Index: 2, Count: 2}))))
		Expect(merged.Totals.Unmet).To(BeZero())
		Expect(merged.ExitCode()).To(Equal(campaign.ExitHarness))
	})

	It("keeps one copy of a cell two shards both ran (the later), and says so", func() {
		a := runShard("a", campaign.Shard{})
		b := runShard("b", campaign.Shard{Index: 1, Count: 2})
		merged, rep, err := campaign.Merge(filepath.Join(root, "merged"), []string{a, b})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Duplicates).To(HaveLen(len(m.ShardCells(campaign.Shard{Index: 1, Count: 2}))))
		Expect(merged.Cells).To(HaveLen(6))
	})

	It("refuses folders of different campaigns and a source as output", func() {
		a := runShard("a", campaign.Shard{})
		m = campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{7}}.Normalize()
		b := runShard("b", campaign.Shard{})
		_, _, err := campaign.Merge(filepath.Join(root, "merged"), []string{a, b})
		Expect(err).To(MatchError(ContainSubstring("another campaign")))
		_, _, err = campaign.Merge(a, []string{a})
		Expect(err).To(MatchError(ContainSubstring("both a source and the output")))
		_, _, err = campaign.Merge(filepath.Join(root, "m2"), []string{filepath.Join(root, "nothing")})
		Expect(err).To(HaveOccurred())
		Expect(filepath.Join(root, "merged")).NotTo(BeAnExistingFile(), "a refused merge writes nothing")
	})
})
