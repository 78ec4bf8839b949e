package campaign_test

import (
	"encoding/xml"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// syntheticCampaign has two targets; baseline is flaky on pglogical (seed
// 2 disagrees with itself across repeats) and differs between targets;
// kill-without-recovery meets its expected fail everywhere; one cell is
// pending.
func syntheticCampaign() *campaign.Campaign {
	pg, sp := campaign.Target{Flavor: "pglogical"}, campaign.Target{Flavor: "spock", Image: "spock:6"}
	m := campaign.Matrix{Scenarios: []string{"baseline", "kill-without-recovery"}, Seeds: []int64{1, 2}, Targets: []campaign.Target{pg, sp}, Repeat: 2}.Normalize()
	verdict := func(c campaign.Cell) verify.Verdict {
		switch {
		case c.Scenario == "kill-without-recovery":
			return verify.Fail
		case c.Target == pg && c.Seed == 2 && c.Repeat == 2:
			return verify.Fail
		}
		return verify.Pass
	}
	camp := &campaign.Campaign{Fingerprint: m.Fingerprint(), Matrix: m, Selection: "all"}
	for _, c := range m.Cells() {
		r := campaign.CellResult{Cell: c, ID: c.ID(), State: campaign.StateDone, Expect: verify.Pass,
			Verdict: verdict(c), RunDir: "cells/" + c.ID() + "/run", Replay: "spockchaos run " + c.Scenario, DurationSeconds: 10}
		if c.Scenario == "kill-without-recovery" {
			r.Expect = verify.Fail
		}
		if r.Verdict == verify.Fail {
			r.Failed = []string{"convergence"}
		}
		r.Met = r.Verdict == r.Expect
		if c.Scenario == "kill-without-recovery" && c.Target == sp && c.Seed == 2 && c.Repeat == 2 {
			r = campaign.CellResult{Cell: c, ID: c.ID(), State: campaign.StatePending, Expect: verify.Fail}
		}
		camp.Cells = append(camp.Cells, r)
	}
	return camp
}

var _ = Describe("the campaign report", func() {
	It("counts per scenario and target against the expected verdict", func() {
		rates := syntheticCampaign().Rates()
		Expect(rates).To(HaveLen(4))
		Expect(rates[0]).To(MatchFields(IgnoreExtras, Fields{"Scenario": Equal("baseline"), "Target": Equal("pglogical"), "Done": Equal(4), "Met": Equal(3), "Fail": Equal(1)}))
		Expect(rates[0].MetRate()).To(Equal(75.0))
		Expect(rates[3]).To(MatchFields(IgnoreExtras, Fields{"Scenario": Equal("kill-without-recovery"), "Done": Equal(3), "Met": Equal(3)}))
		Expect(rates[3].NotRun()).To(Equal(1))
	})

	It("flags a scenario with mixed verdicts as flaky, and the seed that disagreed with itself", func() {
		fl := syntheticCampaign().Flaky()
		Expect(fl).To(HaveLen(1))
		Expect(fl[0].Scenario).To(Equal("baseline"))
		Expect(fl[0].Target).To(Equal("pglogical"))
		Expect(fl[0].Verdicts).To(Equal(map[string]int{"pass": 3, "fail": 1}))
		Expect(fl[0].Nondeterministic).To(Equal([]int64{2}))
	})

	It("lists the scenarios whose verdict differs between targets", func() {
		d := syntheticCampaign().TargetDiffs()
		Expect(d).To(HaveLen(1))
		Expect(d[0].Scenario).To(Equal("baseline"))
		Expect(d[0].Cases).To(Equal([]string{"seed 2 repeat 2: pglogical=fail spock@spock:6=pass"}))
	})

	It("writes JUnit with one testcase per cell: failure when the verdict was not expected, skipped when not run", func() {
		b, err := campaign.MarshalJUnit(syntheticCampaign())
		Expect(err).NotTo(HaveOccurred())
		var j reports.JUnitTestSuites
		Expect(xml.Unmarshal(b, &j)).To(Succeed())
		Expect(j.Tests).To(Equal(16))
		Expect(j.Failures).To(Equal(1))
		Expect(j.Suites).To(HaveLen(2))
		Expect(j.Suites[1].Skipped).To(Equal(1))
		var failed reports.JUnitTestCase
		for _, c := range j.Suites[0].Cases {
			if c.Failure != nil {
				failed = c
			}
		}
		Expect(failed.Name).To(Equal("baseline seed 2 repeat 2"))
		Expect(failed.Failure.Message).To(ContainSubstring("verdict fail, expected pass; failing checkers: convergence"))
		Expect(failed.SystemOut).To(ContainSubstring("replay: spockchaos run baseline"))
	})

	It("summarises in Markdown with the failing cell's reproduction", func() {
		s := campaign.SummaryOf(syntheticCampaign())
		Expect(s).To(ContainSubstring("1 cells did NOT meet their expected verdict"))
		Expect(s).To(ContainSubstring("| baseline | pglogical | pass | 3/4 (75%) | 0 | 3 | 1 | 0 | 0 |"))
		Expect(s).To(ContainSubstring("### Flaky"))
		Expect(s).To(ContainSubstring("the same seed disagreed with itself: [2]"))
		Expect(s).To(ContainSubstring("### Verdicts that differ between targets"))
		Expect(s).To(ContainSubstring("repro: `spockchaos repro cells/baseline-s2-pglogical-r2/run`"))
	})

	It("renders campaign.html offline: a matrix per target linking each cell to its report", func() {
		page, err := campaign.RenderHTML(syntheticCampaign())
		Expect(err).NotTo(HaveOccurred())
		html := string(page)
		Expect(html).To(ContainSubstring(`default-src 'none'`))
		Expect(html).NotTo(ContainSubstring("<script"))
		Expect(html).To(ContainSubstring("Scenarios x seeds on pglogical"))
		Expect(html).To(ContainSubstring("Scenarios x seeds on spock@spock:6"))
		Expect(html).To(ContainSubstring(`<a class="badge fail unmet" href="cells/baseline-s2-pglogical-r2/run/report.html"`))
		Expect(strings.Count(html, `class="badge pass"`)).To(Equal(7 + 1)) // 7 cells and the legend
		Expect(html).To(ContainSubstring(`class="badge pending"`))
		Expect(html).To(ContainSubstring("seed 2 repeat 2: pglogical=fail spock@spock:6=pass"))
		Expect(html).To(ContainSubstring("<code>spockchaos repro cells/baseline-s2-pglogical-r2/run</code>"))
	})
})
