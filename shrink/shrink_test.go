package shrink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/shrink"
	"github.com/spockchaos/spockchaos/verify"
)

// storedRun writes a run directory as the runner does for
// kill-without-recovery seed 7 on 3 nodes with a 4 s load and the seed's
// plan, ending with verdict v and the given checkers failing.
func storedRun(parent string, v verify.Verdict, failing ...string) string {
	spec, err := scenarios.Lookup("kill-without-recovery")
	Expect(err).NotTo(HaveOccurred())
	plan := scenarios.NewPlan(spec, 7, 3, 4*time.Second)
	dir, err := record.NewRunDir(parent, spec.Name, 7, time.Now())
	Expect(err).NotTo(HaveOccurred())
	run := &record.Run{Scenario: spec.Name, Seed: 7, Flavor: "pglogical", ImageID: "node:a",
		Versions: record.Versions{Spockchaos: record.SpockchaosVersion()},
		Config: map[string]any{"nodes": 3, "flavor": "pglogical", "image": "", "recovery": "none", "load": "4s",
			"clients_per_node": spec.ClientsPerNode, "plan": plan.Steps},
		Checkers: checkers(failing), Verdict: v}
	Expect(reports.Write(dir, run, "")).To(Succeed())
	return dir
}

func checkers(failing []string) []verify.CheckResult {
	var out []verify.CheckResult
	for _, name := range []string{"convergence", "history", "recovered"} {
		v := verify.Pass
		for _, f := range failing {
			if f == name {
				v = verify.Fail
			}
		}
		out = append(out, verify.CheckResult{Name: name, Verdict: v})
	}
	return out
}

// fakeScenarios stands for scenarios.Run: it records what it was asked
// and fails convergence when fails says so.
type fakeScenarios struct {
	fails func(spec *scenarios.Spec, opts scenarios.Options, plan scenarios.Plan) bool
	specs []*scenarios.Spec
	opts  []scenarios.Options
	plans []scenarios.Plan
}

func (f *fakeScenarios) run(_ context.Context, spec *scenarios.Spec, opts scenarios.Options) (*scenarios.Outcome, error) {
	plan := scenarios.NewPlan(spec, opts.Seed, opts.Nodes, opts.Duration)
	f.specs, f.opts, f.plans = append(f.specs, spec), append(f.opts, opts), append(f.plans, plan)
	out := &scenarios.Outcome{Verdict: verify.Pass, Dir: filepath.Join(opts.OutDir, fmt.Sprintf("run-%d", len(f.plans))), Plan: plan,
		Run: &record.Run{Scenario: spec.Name, Checkers: checkers(nil)}}
	if f.fails(spec, opts, plan) {
		out.Verdict, out.Run.Checkers = verify.Fail, checkers([]string{"convergence"})
	}
	return out, nil
}

func planKinds(p scenarios.Plan) string {
	var ks []string
	for _, s := range p.Steps {
		ks = append(ks, s.Kind)
	}
	return strings.Join(ks, ",")
}

var _ = Describe("Shrink of a stored run", func() {
	var out bytes.Buffer
	BeforeEach(func() { out.Reset() })

	It("re-runs the stored run, shrinks the load on the seed's plan and names a plain run command", func() {
		f := &fakeScenarios{fails: func(spec *scenarios.Spec, opts scenarios.Options, plan scenarios.Plan) bool {
			return planKinds(plan) == "lag,kill" && spec.ClientsPerNode == 2 && opts.Nodes == 3
		}}
		res, err := shrink.Shrink(context.Background(), storedRun(GinkgoT().TempDir(), verify.Fail, "convergence"),
			shrink.Options{OutDir: "out", Run: f.run, Out: &out})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Reproduced).To(BeTrue())
		Expect(res.Smaller).To(BeTrue())
		for i, o := range f.opts {
			Expect(o.Seed).To(Equal(int64(7)))
			Expect(o.Recovery).To(Equal("none"))
			Expect(o.Flavor).To(Equal("pglogical"))
			Expect(o.OutDir).To(Equal("out"))
			Expect(f.specs[i].Name).To(Equal("kill-without-recovery"))
		}
		spec, _ := scenarios.Lookup("kill-without-recovery")
		Expect(f.plans[0].Steps).To(Equal(scenarios.NewPlan(spec, 7, 3, 4*time.Second).Steps))
		Expect(res.Smallest.Duration).To(Equal(2 * time.Second))
		Expect(res.Smallest.Steps).To(Equal(scenarios.NewPlan(spec, 7, 3, 2*time.Second).Steps))
		Expect(res.Smallest.Clients).To(Equal(2))
		Expect(res.Smallest.Nodes).To(Equal(3))
		Expect(f.specs).To(ContainElement(HaveField("ClientsPerNode", 1)))
		Expect(f.opts).To(ContainElement(HaveField("Nodes", 2)))
		Expect(res.Plain).To(BeTrue())
		Expect(res.Command).To(Equal("spockchaos run kill-without-recovery --seed 7 --duration 2s"))
		Expect(res.Summary()).To(Equal(fmt.Sprintf("smallest failing run: 2 of 2 fault steps, load 2s (was 4s), 2 clients/node (was 2), 3 nodes (was 3); failing convergence; %d runs", res.Runs)))
	})

	It("passes the stored run's server settings to every attempt and to the command it names", func() {
		dir := storedRun(GinkgoT().TempDir(), verify.Fail, "convergence")
		run, err := record.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		run.Settings = map[string]string{"work_mem": "8MB"}
		Expect(reports.Write(dir, run, "")).To(Succeed())
		f := &fakeScenarios{fails: func(_ *scenarios.Spec, _ scenarios.Options, plan scenarios.Plan) bool {
			return planKinds(plan) == "lag,kill"
		}}
		res, err := shrink.Shrink(context.Background(), dir, shrink.Options{OutDir: "out", Run: f.run, Out: &out, Budget: 3})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.opts).To(HaveLen(3))
		for _, o := range f.opts {
			Expect(o.Settings).To(Equal(map[string]string{"work_mem": "8MB"}))
		}
		Expect(res.Plain).To(BeTrue())
		Expect(res.Command).To(HaveSuffix(" --set work_mem=8MB"))
	})

	It("replays every attempt on the stored run's PostgreSQL major and names it in the command", func() {
		dir := storedRun(GinkgoT().TempDir(), verify.Fail, "convergence")
		run, err := record.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		run.Versions.PGMajor = 15
		Expect(reports.Write(dir, run, "")).To(Succeed())
		f := &fakeScenarios{fails: func(_ *scenarios.Spec, _ scenarios.Options, plan scenarios.Plan) bool {
			return planKinds(plan) == "lag,kill"
		}}
		res, err := shrink.Shrink(context.Background(), dir, shrink.Options{OutDir: "out", Run: f.run, Out: &out, Budget: 3})
		Expect(err).NotTo(HaveOccurred())
		for _, o := range f.opts {
			Expect(o.PG).To(Equal(15))
		}
		Expect(res.Plain).To(BeTrue())
		Expect(res.Command).To(ContainSubstring(" --pg 15"))
	})

	It("names `spockchaos repro DIR` of the smallest run when flags cannot say its plan", func() {
		f := &fakeScenarios{fails: func(_ *scenarios.Spec, _ scenarios.Options, plan scenarios.Plan) bool {
			return strings.Contains(planKinds(plan), "kill")
		}}
		res, err := shrink.Shrink(context.Background(), storedRun(GinkgoT().TempDir(), verify.Fail, "convergence"),
			shrink.Options{OutDir: "out dir", Run: f.run, Out: &out, Budget: 5})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Stopped).To(Equal(shrink.StoppedBudget))
		Expect(f.plans).To(HaveLen(5))
		Expect(planKinds(scenarios.Plan{Steps: res.Smallest.Steps})).To(Equal("kill"))
		Expect(res.Plain).To(BeFalse())
		Expect(res.SmallestDir).To(HavePrefix("out dir/run-"))
		Expect(res.Command).To(Equal("spockchaos repro '" + res.SmallestDir + "'"))
	})

	It("says not reproduced when the stored run does not fail the same way again", func() {
		f := &fakeScenarios{fails: func(*scenarios.Spec, scenarios.Options, scenarios.Plan) bool { return false }}
		res, err := shrink.Shrink(context.Background(), storedRun(GinkgoT().TempDir(), verify.Fail, "convergence"), shrink.Options{Run: f.run})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Reproduced).To(BeFalse())
		Expect(res.Command).To(BeEmpty())
		Expect(f.plans).To(HaveLen(1))
	})

	It("is a harness error when the re-run makes no run directory", func() {
		run := func(context.Context, *scenarios.Spec, scenarios.Options) (*scenarios.Outcome, error) {
			return nil, errors.New("no docker")
		}
		_, err := shrink.Shrink(context.Background(), storedRun(GinkgoT().TempDir(), verify.Fail, "convergence"), shrink.Options{Run: run})
		Expect(err).To(MatchError(ContainSubstring("re-running the original: no docker")))
	})

	It("refuses, before running anything, a directory that is not a failing run and a bad budget", func() {
		f := &fakeScenarios{fails: func(*scenarios.Spec, scenarios.Options, scenarios.Plan) bool { return true }}
		opts := shrink.Options{Run: f.run}
		_, err := shrink.Shrink(context.Background(), storedRun(GinkgoT().TempDir(), verify.Pass), opts)
		Expect(err).To(MatchError(ContainSubstring("not a failing run (verdict pass)")))
		_, err = shrink.Shrink(context.Background(), GinkgoT().TempDir(), opts)
		Expect(err).To(HaveOccurred())
		dir := storedRun(GinkgoT().TempDir(), verify.Fail, "convergence")
		_, err = shrink.Shrink(context.Background(), dir, shrink.Options{Run: f.run, Budget: -1})
		Expect(err).To(MatchError(ContainSubstring("must not be negative")))
		_, err = shrink.Shrink(context.Background(), dir, shrink.Options{Run: f.run, LoadFloor: 100 * time.Millisecond})
		Expect(err).To(MatchError(ContainSubstring("load floor")))
		Expect(f.plans).To(BeEmpty())
	})
})
