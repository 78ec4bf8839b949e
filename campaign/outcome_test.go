package campaign_test

import (
	"encoding/xml"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// outcomeCell is a done apply-worker-faults cell on Spock (expects pass).
func outcomeCell(seed int64, v verify.Verdict, explained string) campaign.CellResult {
	c := campaign.Cell{Scenario: "apply-worker-faults", Seed: seed, Target: campaign.Target{Flavor: "spock", Image: "spock:5"}, Repeat: 1}
	r := campaign.CellResult{Cell: c, ID: c.ID(), State: campaign.StateDone, Expect: verify.Pass, Verdict: v,
		Met: v == verify.Pass, Explained: explained, RunDir: "cells/" + c.ID() + "/run", Replay: "spockchaos run apply-worker-faults"}
	if v == verify.Fail {
		r.Failed = []string{"convergence"}
	}
	return r
}

const deadlockExplained = "n1 lacks 30000 rows: spock-discards-deadlock-victim: transaction discarded (TRANSDISCARD) at LSN 0/94C86D8. Initial error: [SQLSTATE 40P01] deadlock detected"

// outcomeCampaign has one cell of each outcome but pending ones.
func outcomeCampaign(cells ...campaign.CellResult) *campaign.Campaign {
	m := campaign.Matrix{Scenarios: []string{"apply-worker-faults"}, Seeds: []int64{1, 2, 3, 4}, Targets: []campaign.Target{{Flavor: "spock", Image: "spock:5"}}}.Normalize()
	return &campaign.Campaign{Fingerprint: m.Fingerprint(), Matrix: m, Selection: "apply-worker-faults", Cells: cells}
}

var _ = Describe("a cell's outcome", func() {
	DescribeTable("from its state, verdict, expectation and explanation",
		func(r campaign.CellResult, want campaign.Outcome) {
			Expect(r.Outcome()).To(Equal(want))
		},
		Entry("pass where pass is expected", outcomeCell(1, verify.Pass, ""), campaign.OutcomeAsExpected),
		Entry("a FAIL every diverged row of which known findings explain", outcomeCell(1, verify.Fail, deadlockExplained), campaign.OutcomeExplained),
		Entry("a FAIL no finding explains", outcomeCell(1, verify.Fail, ""), campaign.OutcomeUnexpected),
		Entry("unknown, even with an explanation (no verdict is a finding's)", outcomeCell(1, verify.Unknown, deadlockExplained), campaign.OutcomeUnknown),
		Entry("skipped", outcomeCell(1, verify.Skipped, ""), campaign.OutcomeSkipped),
		Entry("pending", campaign.CellResult{State: campaign.StatePending, Expect: verify.Pass}, campaign.OutcomePending),
		Entry("an expected FAIL stays as expected", func() campaign.CellResult {
			r := outcomeCell(1, verify.Fail, "")
			r.Expect, r.Met = verify.Fail, true
			return r
		}(), campaign.OutcomeAsExpected),
	)

	DescribeTable("the campaign's exit code: an explained FAIL counts like a met cell, an unexplained one does not",
		func(cells []campaign.CellResult, code int, met, explained, unmet int) {
			c := outcomeCampaign(cells...)
			Expect(c.ExitCode()).To(Equal(code))
			rates := c.Rates()
			Expect(rates).To(HaveLen(1))
			Expect([]int{rates[0].Met, rates[0].Explained}).To(Equal([]int{met, explained}))
			Expect(c.Unmet()).To(HaveLen(unmet))
			Expect(c.Explained()).To(HaveLen(explained))
		},
		Entry("met and explained", []campaign.CellResult{outcomeCell(1, verify.Pass, ""), outcomeCell(2, verify.Fail, deadlockExplained)},
			campaign.ExitMet, 1, 1, 0),
		Entry("explained and unexplained", []campaign.CellResult{outcomeCell(1, verify.Fail, ""), outcomeCell(2, verify.Fail, deadlockExplained)},
			campaign.ExitUnmet, 0, 1, 1),
		Entry("explained and unknown", []campaign.CellResult{outcomeCell(1, verify.Unknown, ""), outcomeCell(2, verify.Fail, deadlockExplained)},
			campaign.ExitHarness, 0, 1, 1),
	)

	Describe("in the reports", func() {
		camp := func() *campaign.Campaign {
			return outcomeCampaign(outcomeCell(1, verify.Pass, ""), outcomeCell(2, verify.Fail, deadlockExplained),
				outcomeCell(3, verify.Fail, ""), outcomeCell(4, verify.Unknown, ""))
		}

		It("summary.md counts explained cells apart and says what explained them", func() {
			s := campaign.SummaryOf(camp())
			Expect(s).To(ContainSubstring("1 cells did NOT meet their expected verdict"))
			Expect(s).To(ContainSubstring("met expected 1, explained by known findings 1"))
			Expect(s).To(ContainSubstring("| apply-worker-faults | spock@spock:5 | pass | 1/4 (25%) | 1 | 1 | 2 | 1 | 0 |"))
			ex, un, _ := strings.Cut(s, "### Cells that did not meet")
			Expect(ex).To(ContainSubstring("### Cells that failed by known findings only"))
			Expect(ex).To(ContainSubstring("apply-worker-faults seed 2 on spock@spock:5 (repeat 1): fail (expected pass)"))
			Expect(ex).To(ContainSubstring("explained: " + deadlockExplained))
			Expect(un).To(ContainSubstring("seed 3"))
			Expect(un).To(ContainSubstring("seed 4"))
			Expect(un).NotTo(ContainSubstring("seed 2"))
		})

		It("summary.md of a campaign whose only FAILs are explained says so", func() {
			s := campaign.SummaryOf(outcomeCampaign(outcomeCell(1, verify.Pass, ""), outcomeCell(2, verify.Fail, deadlockExplained)))
			Expect(s).To(ContainSubstring("every cell met its expected verdict or failed by known findings only (1 explained)"))
			Expect(s).NotTo(ContainSubstring("### Cells that did not meet"))
		})

		It("junit.xml passes the explained cell with its explanation, fails the unexplained one", func() {
			b, err := campaign.MarshalJUnit(camp())
			Expect(err).NotTo(HaveOccurred())
			var j reports.JUnitTestSuites
			Expect(xml.Unmarshal(b, &j)).To(Succeed())
			Expect([]int{j.Tests, j.Failures, j.Errors}).To(Equal([]int{4, 1, 1}))
			cases := j.Suites[0].Cases
			Expect(cases[1].Name).To(Equal("apply-worker-faults seed 2 repeat 1"))
			Expect(cases[1].Failure).To(BeNil())
			Expect(cases[1].SystemOut).To(ContainSubstring("explained by known findings: " + deadlockExplained))
			Expect(cases[2].Failure).NotTo(BeNil())
		})

		It("campaign.html marks the explained cell apart from unmet ones and lists its explanation", func() {
			page, err := campaign.RenderHTML(camp())
			Expect(err).NotTo(HaveOccurred())
			html := string(page)
			Expect(html).To(ContainSubstring(`<a class="badge fail explained" href="cells/apply-worker-faults-s2-spock_spock_5-r1/run/report.html"`))
			Expect(html).To(ContainSubstring(`<a class="badge fail unmet" href="cells/apply-worker-faults-s3-spock_spock_5-r1/run/report.html"`))
			Expect(html).To(ContainSubstring(`<table id="explained">`))
			Expect(html).To(ContainSubstring("1 failed by known findings only (explained)"))
			Expect(html).To(ContainSubstring("SQLSTATE 40P01"))
		})
	})
})
