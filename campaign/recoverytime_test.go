package campaign_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
)

var _ = Describe("the campaign's recovery times", func() {
	It("give the median and maximum kill-to-level time per scenario and target, and count the failed nodes never level", func() {
		camp := syntheticCampaign()
		secs := [][]float64{{1.0}, {3.0}, {2.0, 8.0}}
		i := 0
		for j := range camp.Cells {
			r := &camp.Cells[j]
			switch {
			case !r.Done():
			case r.Scenario == "baseline" && r.Target.Flavor == "pglogical" && i < len(secs):
				r.Recovery = &campaign.RecoveryCounts{Strategy: "reference", Seconds: secs[i]}
				i++
			case r.Scenario == "kill-without-recovery":
				r.Recovery = &campaign.RecoveryCounts{Strategy: "none", NeverLevel: 1}
			}
		}
		rts := camp.RecoveryTimes()
		Expect(rts).To(HaveLen(3))
		Expect(rts[0]).To(Equal(campaign.RecoveryTime{Scenario: "baseline", Target: "pglogical", Count: 4, Median: 2.5, Max: 8}))
		Expect(rts[1].Scenario).To(Equal("kill-without-recovery"))
		Expect(rts[1].Count).To(BeZero())
		Expect(rts[1].NeverLevel).To(BeNumerically(">", 0))
		md := campaign.SummaryOf(camp)
		Expect(md).To(ContainSubstring("### Recovery time (kill to every survivor level)"))
		Expect(md).To(ContainSubstring("| baseline | pglogical | 4 | 2.50 s | 8.00 s | 0 |"))
		page, err := campaign.RenderHTML(camp)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Contains(string(page), `id="recovery-time"`)).To(BeTrue())
	})

	It("are left out of the summary when no cell killed a node", func() {
		Expect(syntheticCampaign().RecoveryTimes()).To(BeEmpty())
		Expect(campaign.SummaryOf(syntheticCampaign())).NotTo(ContainSubstring("Recovery time"))
	})
})
