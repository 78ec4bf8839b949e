package repro_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/repro"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// storedRun writes a run directory as the runner does for
// kill-without-recovery seed 7 on 3 nodes with a 4 s load; steps nil
// stores the plan the seed gives.
func storedRun(parent string, steps []scenarios.Step, version string) string {
	spec, err := scenarios.Lookup("kill-without-recovery")
	Expect(err).NotTo(HaveOccurred())
	plan := scenarios.NewPlan(spec, 7, 3, 4*time.Second)
	if steps == nil {
		steps = plan.Steps
	}
	dir, err := record.NewRunDir(parent, spec.Name, 7, time.Now())
	Expect(err).NotTo(HaveOccurred())
	run := &record.Run{Scenario: spec.Name, Seed: 7, Flavor: "pglogical", ImageID: "node:a",
		Versions: record.Versions{Spockchaos: version},
		Config: map[string]any{"nodes": 3, "flavor": "pglogical", "image": "", "recovery": "none", "load": "4s",
			"clients_per_node": spec.ClientsPerNode, "plan": steps},
		Checkers: []verify.CheckResult{{Name: "convergence", Verdict: verify.Fail}, {Name: "history", Verdict: verify.Pass}},
		Verdict:  verify.Fail}
	Expect(reports.Write(dir, run, "")).To(Succeed())
	return dir
}

// fakeRun records what it was asked to run and ends with verdict v and
// the given failing checkers.
type fakeRun struct {
	spec   *scenarios.Spec
	opts   scenarios.Options
	plan   scenarios.Plan
	v      verify.Verdict
	failed []string
}

func (f *fakeRun) run(_ context.Context, spec *scenarios.Spec, opts scenarios.Options) (*scenarios.Outcome, error) {
	f.spec, f.opts = spec, opts
	f.plan = scenarios.NewPlan(spec, opts.Seed, opts.Nodes, opts.Duration)
	run := &record.Run{Scenario: spec.Name, ImageID: "node:a"}
	for _, name := range []string{"convergence", "history"} {
		v := verify.Pass
		for _, fl := range f.failed {
			if fl == name {
				v = verify.Fail
			}
		}
		run.Checkers = append(run.Checkers, verify.CheckResult{Name: name, Verdict: v})
	}
	return &scenarios.Outcome{Verdict: f.v, Dir: "new", Plan: f.plan, Run: run}, nil
}

var _ = Describe("repro", func() {
	It("reads everything the stored run ran from run.json", func() {
		rec, err := repro.Load(storedRun(GinkgoT().TempDir(), nil, "v1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Options()).To(Equal(scenarios.Options{Seed: 7, Nodes: 3, Flavor: "pglogical", Recovery: "none", Duration: 4 * time.Second}))
		Expect(rec.Steps).To(HaveLen(2))
		Expect(rec.Verdict).To(Equal(verify.Fail))
		Expect(rec.Failed).To(Equal([]string{"convergence"}))
		Expect(rec.ImageID).To(Equal("node:a"))
		Expect(rec.Version).To(Equal("v1"))
	})

	It("passes the server settings the stored run ran with again", func() {
		dir := storedRun(GinkgoT().TempDir(), nil, record.SpockchaosVersion())
		run, err := record.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		run.Settings = map[string]string{"work_mem": "8MB"}
		Expect(reports.Write(dir, run, "")).To(Succeed())
		f := &fakeRun{v: verify.Fail, failed: []string{"convergence"}}
		_, err = repro.Run(context.Background(), dir, repro.Options{Run: f.run, OutDir: "out"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.opts.Settings).To(Equal(map[string]string{"work_mem": "8MB"}))
	})

	It("refuses a directory whose run.json does not say what ran", func() {
		dir, err := record.NewRunDir(GinkgoT().TempDir(), "baseline", 3, time.Now())
		Expect(err).NotTo(HaveOccurred())
		Expect(reports.Write(dir, &record.Run{Scenario: "baseline", Seed: 3}, "")).To(Succeed())
		_, err = repro.Load(dir)
		Expect(err).To(MatchError(ContainSubstring("lacks nodes, load, flavor or recovery")))
		_, err = repro.Load(GinkgoT().TempDir())
		Expect(err).To(HaveOccurred())
	})

	It("re-runs the stored options and says reproduced when plan, verdict and failing checkers agree", func() {
		f := &fakeRun{v: verify.Fail, failed: []string{"convergence"}}
		res, err := repro.Run(context.Background(), storedRun(GinkgoT().TempDir(), nil, record.SpockchaosVersion()), repro.Options{Run: f.run, OutDir: "out"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.opts.Seed).To(Equal(int64(7)))
		Expect(f.opts.Duration).To(Equal(4 * time.Second))
		Expect(f.opts.Recovery).To(Equal("none"))
		Expect(f.opts.OutDir).To(Equal("out"))
		Expect(res.StoredPlan).To(BeFalse())
		Expect(res.Warnings).To(BeEmpty())
		Expect(res.Reproduced).To(BeTrue())
	})

	It("says not reproduced when the verdict or the failing checkers differ", func() {
		f := &fakeRun{v: verify.Pass}
		res, err := repro.Run(context.Background(), storedRun(GinkgoT().TempDir(), nil, record.SpockchaosVersion()), repro.Options{Run: f.run})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.SamePlan).To(BeTrue())
		Expect(res.SameVerdict).To(BeFalse())
		Expect(res.Reproduced).To(BeFalse())

		f = &fakeRun{v: verify.Fail, failed: []string{"history"}}
		res, _ = repro.Run(context.Background(), storedRun(GinkgoT().TempDir(), nil, record.SpockchaosVersion()), repro.Options{Run: f.run})
		Expect(res.SameVerdict).To(BeTrue())
		Expect(res.SameFailures).To(BeFalse())
		Expect(res.Reproduced).To(BeFalse())
	})

	It("replays a stored plan the seed no longer gives (a shrunk run), and warns about another spockchaos version", func() {
		kill := []scenarios.Step{{At: 2 * time.Second, Kind: scenarios.StepKill, Node: "n2"}}
		f := &fakeRun{v: verify.Fail, failed: []string{"convergence"}}
		res, err := repro.Run(context.Background(), storedRun(GinkgoT().TempDir(), kill, "v0-old"), repro.Options{Run: f.run})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.StoredPlan).To(BeTrue())
		Expect(f.plan.Steps).To(Equal(kill))
		Expect(f.spec.Name).To(Equal("kill-without-recovery"))
		Expect(res.Reproduced).To(BeTrue())
		Expect(res.Warnings).To(ContainElements(ContainSubstring("spockchaos v0-old"), ContainSubstring("replaying the stored plan")))
	})

	It("replays a stored plan with overlapping and multi-node steps as stored", func() {
		steps := []scenarios.Step{
			{At: time.Second, Kind: scenarios.StepPartition, Node: "n1", Nodes: []string{"n1", "n2"}, Hold: time.Second},
			{At: 2 * time.Second, Kind: scenarios.StepPause, Node: "n3", Hold: time.Second, Overlap: true},
		}
		dir := storedRun(GinkgoT().TempDir(), steps, record.SpockchaosVersion())
		rec, err := repro.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(rec.Steps).To(Equal(steps))
		f := &fakeRun{v: verify.Fail, failed: []string{"convergence"}}
		res, err := repro.Run(context.Background(), dir, repro.Options{Run: f.run})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.StoredPlan).To(BeTrue())
		Expect(f.plan.Steps).To(Equal(steps))
		Expect(scenarios.CheckPlan(f.plan)).To(Succeed())
	})
})
