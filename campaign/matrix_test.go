package campaign_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
)

var _ = Describe("the campaign matrix", func() {
	It("derives the same seeds from the same campaign seed, distinct and in 1..2^31-1", func() {
		a := campaign.SeedsFrom(1, 50)
		Expect(campaign.SeedsFrom(1, 50)).To(Equal(a))
		Expect(campaign.SeedsFrom(2, 50)).NotTo(Equal(a))
		seen := map[int64]bool{}
		for _, s := range a {
			Expect(s).To(BeNumerically(">=", 1))
			Expect(s).To(BeNumerically("<", int64(1)<<31))
			Expect(seen[s]).To(BeFalse(), "seed %d twice", s)
			seen[s] = true
		}
		Expect(campaign.SeedsFrom(1, 3)).To(Equal(a[:3]), "more seeds extend the list, never reshuffle it")
	})

	It("pairs --flavor and --image flags: one flavor with every image, or the i-th with the i-th", func() {
		ts, err := campaign.Targets([]string{"spock"}, []string{"a:1", "b:2"})
		Expect(err).NotTo(HaveOccurred())
		Expect(ts).To(Equal([]campaign.Target{{Flavor: "spock", Image: "a:1"}, {Flavor: "spock", Image: "b:2"}}))
		ts, err = campaign.Targets([]string{"pglogical", "spock"}, []string{"p", "s"})
		Expect(err).NotTo(HaveOccurred())
		Expect(ts[1]).To(Equal(campaign.Target{Flavor: "spock", Image: "s"}))
		_, err = campaign.Targets([]string{"a", "b"}, []string{"x", "y", "z"})
		Expect(err).To(MatchError(ContainSubstring("2 --flavor and 3 --image")))
		ts, err = campaign.Targets(nil, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(campaign.Matrix{Scenarios: []string{"baseline"}, Targets: ts}.Normalize().Targets).To(Equal([]campaign.Target{{Flavor: "pglogical"}}))
	})

	It("lists scenario x target x seed x repeat in canonical order with unique ids", func() {
		m := campaign.Matrix{Scenarios: []string{"kill-mid-load", "baseline", "baseline"}, Seeds: []int64{5, 3},
			Targets: []campaign.Target{{Flavor: "pglogical"}, {Flavor: "spock", Image: "reg/spock:6.0"}}, Repeat: 2}.Normalize()
		cells := m.Cells()
		Expect(cells).To(HaveLen(2 * 2 * 2 * 2))
		Expect(cells[0]).To(Equal(campaign.Cell{Scenario: "baseline", Seed: 5, Target: campaign.Target{Flavor: "pglogical"}, Repeat: 1}))
		Expect(cells[1].Repeat).To(Equal(2))
		Expect(cells[2].Seed).To(Equal(int64(3)))
		Expect(cells[4].Target.Image).To(Equal("reg/spock:6.0"))
		Expect(cells[8].Scenario).To(Equal("kill-mid-load"))
		ids := map[string]bool{}
		for _, c := range cells {
			Expect(c.ID()).To(MatchRegexp(`^[A-Za-z0-9._-]+$`))
			ids[c.ID()] = true
		}
		Expect(ids).To(HaveLen(len(cells)))
		Expect(cells[4].ID()).To(Equal("baseline-s5-spock_reg_spock_6.0-r1"))
	})

	It("is named by a fingerprint that changes with anything that changes the cells", func() {
		m := campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{1, 2}}.Normalize()
		Expect(m.Fingerprint()).To(Equal(campaign.Matrix{Scenarios: []string{"baseline", "baseline"}, Seeds: []int64{1, 2}}.Normalize().Fingerprint()))
		other := m
		other.Duration = 2 * time.Second
		Expect(other.Fingerprint()).NotTo(Equal(m.Fingerprint()))
	})

	It("refuses, before any run, cells that `spockchaos run` would refuse", func() {
		Expect(campaign.Matrix{Scenarios: []string{"no-such"}, Seeds: []int64{1}}.Normalize().Validate()).To(MatchError(ContainSubstring("unknown scenario")))
		Expect(campaign.Matrix{Scenarios: []string{"baseline"}}.Normalize().Validate()).To(MatchError(ContainSubstring("no seed")))
		Expect(campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{1}, Nodes: 1}.Normalize().Validate()).To(MatchError(ContainSubstring("nodes")))
		Expect(campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{1}, Duration: 10 * time.Millisecond}.Normalize().Validate()).To(MatchError(ContainSubstring("duration")))
		Expect(campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{1}, Targets: []campaign.Target{{Flavor: "mysql"}}}.Normalize().Validate()).To(HaveOccurred())
		Expect(campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{1}}.Normalize().Validate()).To(Succeed())
	})
})
