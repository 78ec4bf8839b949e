package campaign_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/capability"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("running a campaign (fake runs, no Docker)", func() {
	var (
		dir  string
		m    campaign.Matrix
		fake *fakeRunner
		log  *bytes.Buffer
	)
	BeforeEach(func() {
		dir = filepath.Join(GinkgoT().TempDir(), "camp")
		m = campaign.Matrix{Scenarios: []string{"baseline", "kill-without-recovery"}, Seeds: []int64{11, 12}}.Normalize()
		fake = &fakeRunner{verdictOf: func(spec *scenarios.Spec, _ scenarios.Options, _ int) verify.Verdict { return spec.Expect }}
		log = &bytes.Buffer{}
	})
	run := func(ctx context.Context, opts campaign.Options) (*campaign.Campaign, campaign.Stats) {
		opts.Run, opts.Progress = fake.run, log
		c, st, err := campaign.Run(ctx, dir, m, opts)
		Expect(err).NotTo(HaveOccurred())
		return c, st
	}

	It("runs every cell once, judges each against its scenario's expected verdict, and exits 0", func() {
		c, st := run(context.Background(), campaign.Options{})
		Expect(fake.callCount()).To(Equal(4))
		Expect(st.Ran).To(Equal(4))
		Expect(c.Totals).To(Equal(campaign.Totals{Cells: 4, Done: 4, Met: 4, Pass: 2, Fail: 2}))
		Expect(c.ExitCode()).To(Equal(campaign.ExitMet))
		for _, r := range c.Cells {
			Expect(r.RunDir).To(HavePrefix("cells/" + r.ID + "/"))
			Expect(filepath.Join(dir, r.RunDir)).To(BeADirectory())
			Expect(r.Replay).To(HavePrefix("spockchaos run " + r.Scenario + " --seed "))
			Expect(r.Plan).To(ContainSubstring("plan " + r.Scenario))
		}
		for _, f := range []string{"campaign.json", "junit.xml", "summary.md", "campaign.html"} {
			Expect(filepath.Join(dir, f)).To(BeARegularFile())
		}
		Expect(log.String()).To(ContainSubstring("[4/4] "))
		Expect(log.String()).To(MatchRegexp(`ETA \d+s`))
	})

	It("judges a cell against its scenario's verdict for the cell's flavor (ExpectOn)", func() {
		m = campaign.Matrix{Scenarios: []string{"unique-conflict-crash-restart"}, Seeds: []int64{11},
			Targets: []campaign.Target{{Flavor: "pglogical"}, {Flavor: "spock", Image: "spock:6"}}}.Normalize()
		fake.verdictOf = func(_ *scenarios.Spec, opts scenarios.Options, _ int) verify.Verdict {
			if opts.Flavor == "spock" {
				return verify.Fail
			}
			return verify.Pass
		}
		c, _ := run(context.Background(), campaign.Options{})
		Expect(c.Cells).To(HaveLen(2))
		for _, r := range c.Cells {
			Expect(r.Met).To(BeTrue(), "%s: %s, expected %s", r.Cell, r.Verdict, r.Expect)
		}
		Expect([]verify.Verdict{c.Cells[0].Expect, c.Cells[1].Expect}).To(Equal([]verify.Verdict{verify.Pass, verify.Fail}))
		Expect(c.ExitCode()).To(Equal(campaign.ExitMet))
	})

	It("reports a cell refused at start (the image lacks a capability) as skipped with the reason, neither met nor a harness error", func() {
		fake.refuse = func(spec *scenarios.Spec) error {
			if spec.Name != "kill-without-recovery" {
				return nil
			}
			return &capability.Refused{Need: capability.Need{Step: "t+2s clock-skew n2 by 30s for 6s", Cap: capability.ClockSkew}, Image: "img:1", Why: "musl has no glibc loader"}
		}
		c, _ := run(context.Background(), campaign.Options{})
		Expect(c.Totals).To(Equal(campaign.Totals{Cells: 4, Done: 4, Met: 2, Pass: 2, Skipped: 2}))
		Expect(c.ExitCode()).To(Equal(campaign.ExitMet))
		Expect(c.Unmet()).To(BeEmpty())
		Expect(c.Skipped()).To(HaveLen(2))
		for _, r := range c.Skipped() {
			Expect(r.Verdict).To(Equal(verify.Skipped))
			Expect(r.Met).To(BeFalse())
			Expect(r.Error).To(Equal(`step "t+2s clock-skew n2 by 30s for 6s" needs capability clock-skew, which image img:1 lacks: musl has no glibc loader`))
		}
		md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("- skipped: 2 cells the image cannot run"))
		Expect(string(md)).To(ContainSubstring("needs capability clock-skew, which image img:1 lacks"))
		junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(junit)).To(ContainSubstring(`skipped: step &#34;t+2s clock-skew n2`))
		html, err := os.ReadFile(filepath.Join(dir, "campaign.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(html)).To(ContainSubstring(`class="badge skipped`))
	})

	It("exits 2 when every cell was skipped: nothing was qualified", func() {
		fake.refuse = func(*scenarios.Spec) error {
			return &capability.Refused{Need: capability.Need{Step: "up", Cap: capability.FlavorExtension}, Image: "img:1", Why: "pg_available_extensions has no spock"}
		}
		c, _ := run(context.Background(), campaign.Options{})
		Expect(c.Totals.Skipped).To(Equal(4))
		Expect(c.ExitCode()).To(Equal(campaign.ExitHarness))
	})

	It("resumes: the same matrix into the same folder skips done cells and runs none twice", func() {
		run(context.Background(), campaign.Options{})
		c, st := run(context.Background(), campaign.Options{})
		Expect(fake.callCount()).To(Equal(4))
		Expect(st.Skipped).To(Equal(4))
		Expect(st.Ran).To(BeZero())
		Expect(c.Totals.Done).To(Equal(4))
	})

	It("on Ctrl-C leaves the running cell pending, exits 2, and a re-run finishes only what is left", func() {
		ctx, cancel := context.WithCancel(context.Background())
		fake.cancelAt, fake.cancel = 2, cancel
		c, st := run(ctx, campaign.Options{})
		Expect(st.Interrupted).To(BeTrue())
		Expect(c.Totals.Done).To(Equal(1))
		Expect(c.Totals.Pending).To(Equal(3))
		Expect(c.ExitCode()).To(Equal(campaign.ExitHarness))
		interrupted := c.Cells[1]
		Expect(interrupted.State).To(Equal(campaign.StatePending))
		Expect(filepath.Join(campaign.CellDir(dir, interrupted.ID), campaign.CellFile)).NotTo(BeAnExistingFile())

		fake.cancelAt = 0
		c, st = run(context.Background(), campaign.Options{})
		Expect(st.Skipped).To(Equal(1))
		Expect(st.Ran).To(Equal(3))
		Expect(fake.calls[2:]).To(Equal([]string{"baseline s12 pglogical", "kill-without-recovery s11 pglogical", "kill-without-recovery s12 pglogical"}))
		Expect(c.ExitCode()).To(Equal(campaign.ExitMet))
	})

	It("refuses to resume a different campaign in the same folder", func() {
		run(context.Background(), campaign.Options{})
		other := m
		other.Seeds = []int64{99}
		_, _, err := campaign.Run(context.Background(), dir, other, campaign.Options{Run: fake.run})
		Expect(err).To(MatchError(ContainSubstring("holds another campaign")))
	})

	It("exits 1 when a cell reaches the other verdict, 2 when one is unknown, and 1 outranks 2", func() {
		fake.verdictOf = func(spec *scenarios.Spec, opts scenarios.Options, _ int) verify.Verdict {
			if spec.Name == "baseline" && opts.Seed == 12 {
				return verify.Unknown
			}
			return spec.Expect
		}
		c, _ := run(context.Background(), campaign.Options{})
		Expect(c.ExitCode()).To(Equal(campaign.ExitHarness))
		Expect(c.Unmet()).To(HaveLen(1))

		Expect(os.RemoveAll(dir)).To(Succeed())
		fake.verdictOf = func(spec *scenarios.Spec, opts scenarios.Options, _ int) verify.Verdict {
			switch {
			case spec.Name == "baseline" && opts.Seed == 12:
				return verify.Unknown
			case spec.Name == "kill-without-recovery" && opts.Seed == 11:
				return verify.Pass // the control missed the divergence
			}
			return spec.Expect
		}
		c, _ = run(context.Background(), campaign.Options{})
		Expect(c.Totals.Unmet).To(Equal(1))
		Expect(c.ExitCode()).To(Equal(campaign.ExitUnmet))
		Expect(log.String()).To(ContainSubstring("EXPECTED fail"))
		Expect(log.String()).To(ContainSubstring("replay: spockchaos run kill-without-recovery --seed 11"))
	})

	It("runs only its shard's cells, and a shard's folder lists only those", func() {
		c, st := run(context.Background(), campaign.Options{Shard: campaign.Shard{Index: 2, Count: 2}})
		Expect(st.Ran).To(Equal(len(m.ShardCells(campaign.Shard{Index: 2, Count: 2}))))
		Expect(c.Selection).To(Equal("2/2"))
		Expect(c.Cells).To(HaveLen(st.Ran))
	})

	It("runs cells in parallel when asked, each once", func() {
		c, st := run(context.Background(), campaign.Options{Parallel: 3})
		Expect(st.Ran).To(Equal(4))
		Expect(fake.callCount()).To(Equal(4))
		Expect(c.Totals.Done).To(Equal(4))
	})
})
