package scenarios_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var fmtSscan = fmt.Sscan

var _ = Describe("a run's plan", func() {
	It("is the same for the same seed: fault steps, timings and workload keys", func() {
		for _, spec := range scenarios.All() {
			a := scenarios.NewPlan(spec, 42, spec.Nodes, spec.Load).String()
			b := scenarios.NewPlan(spec, 42, spec.Nodes, spec.Load).String()
			Expect(a).To(Equal(b), spec.Name)
			Expect(a).To(ContainSubstring("first workload choices"), spec.Name)
		}
	})

	It("changes with the seed", func() {
		spec, err := scenarios.Lookup("kill-mid-load")
		Expect(err).NotTo(HaveOccurred())
		plans := map[string]bool{}
		for seed := int64(1); seed <= 20; seed++ {
			plans[scenarios.NewPlan(spec, seed, 3, 10*time.Second).String()] = true
		}
		Expect(len(plans)).To(BeNumerically(">", 10))
	})

	It("keeps every step inside the load window and never lags a node from itself", func() {
		for _, spec := range scenarios.All() {
			for seed := int64(1); seed <= 50; seed++ {
				p := scenarios.NewPlan(spec, seed, spec.Nodes, spec.Load)
				for _, s := range p.Steps {
					Expect(s.At).To(BeNumerically("<", spec.Load), "%s seed %d: %s", spec.Name, seed, s)
					Expect(s.Node).NotTo(Equal(s.Peer), "%s seed %d: %s", spec.Name, seed, s)
				}
			}
		}
	})

	It("lags a survivor from the very node that is killed in the recovery scenarios", func() {
		spec, _ := scenarios.Lookup("lagged-kill-recovery")
		for seed := int64(1); seed <= 50; seed++ {
			steps := scenarios.NewPlan(spec, seed, 3, spec.Load).Steps
			Expect(steps).To(HaveLen(2))
			Expect(steps[0].Kind).To(Equal(scenarios.StepLag))
			Expect(steps[1].Kind).To(Equal(scenarios.StepKill))
			Expect(steps[0].Peer).To(Equal(steps[1].Node))
			Expect(steps[0].At).To(BeNumerically("<", steps[1].At))
		}
	})

	It("in sequential-two-failures lags a node that outlives both victims from each victim before it dies", func() {
		spec, _ := scenarios.Lookup("sequential-two-failures")
		for seed := int64(1); seed <= 50; seed++ {
			for _, nodes := range []int{4, 5} {
				steps := scenarios.NewPlan(spec, seed, nodes, spec.Load).Steps
				Expect(steps).To(HaveLen(4))
				victims := []string{steps[1].Node, steps[3].Node}
				Expect(victims[0]).NotTo(Equal(victims[1]))
				for i, lag := range []scenarios.Step{steps[0], steps[2]} {
					kill := steps[2*i+1]
					Expect(lag.Kind).To(Equal(scenarios.StepLag))
					Expect(kill.Kind).To(Equal(scenarios.StepKill))
					Expect(lag.Peer).To(Equal(kill.Node))
					Expect(victims).NotTo(ContainElement(lag.Node))
					Expect(lag.At).To(BeNumerically("<", kill.At))
				}
			}
		}
	})
})

var _ = Describe("selecting scenarios", func() {
	It("finds by exact name, by regular expression and by label", func() {
		s, err := scenarios.Select("baseline", "")
		Expect(err).NotTo(HaveOccurred())
		Expect(s).To(HaveLen(1))
		s, err = scenarios.Select("^kill-", "")
		Expect(err).NotTo(HaveOccurred())
		Expect(len(s)).To(BeNumerically(">=", 4))
		s, err = scenarios.Select("", scenarios.LabelGate)
		Expect(err).NotTo(HaveOccurred())
		for _, spec := range s {
			Expect(spec.HasLabel(scenarios.LabelGate)).To(BeTrue())
		}
	})

	It("fails clearly when nothing matches", func() {
		_, err := scenarios.Select("no-such-scenario", "")
		Expect(err).To(MatchError(ContainSubstring(`no scenario matches name "no-such-scenario"`)))
		_, err = scenarios.Select("baseline", "release")
		Expect(err).To(MatchError(ContainSubstring(`label "release"`)))
		_, err = scenarios.Lookup("nope")
		Expect(err).To(MatchError(ContainSubstring("unknown scenario")))
	})

	It("refuses an invalid spec at registration", func() {
		Expect(func() { scenarios.Register(&scenarios.Spec{Name: "Bad Name"}) }).To(Panic())
		Expect(func() {
			scenarios.Register(&scenarios.Spec{Name: "no-labels", Description: "x", Nodes: 3, Timeout: time.Minute, Load: time.Second,
				Workload: "ledger", Recovery: "auto", Checkers: []string{"convergence"}, Expect: "pass"})
		}).To(Panic())
		Expect(func() {
			scenarios.Register(&scenarios.Spec{Name: "bad-expect-on", Description: "x", Labels: []string{scenarios.LabelNightly}, Nodes: 3, Timeout: time.Minute, Load: time.Second,
				Workload: "ledger", Recovery: "auto", Checkers: []string{"convergence"}, Expect: "pass", ExpectOn: map[string]verify.Verdict{"spock": verify.Unknown}})
		}).To(Panic())
	})

	DescribeTable("expects a flavor's own verdict where the scenario names one (ExpectOn), else Expect",
		func(flavor string, want verify.Verdict) {
			spec, err := scenarios.Lookup("unique-conflict-crash-restart")
			Expect(err).NotTo(HaveOccurred())
			Expect(spec.ExpectFor(flavor)).To(Equal(want))
		},
		Entry("pglogical", "pglogical", verify.Pass),
		Entry("the default flavor", "", verify.Pass),
		Entry("spock (the duplicate-key discards of its default settings)", "spock", verify.Fail),
	)
})

var _ = Describe("the replay command", func() {
	spec, _ := scenarios.Lookup("lagged-kill-recovery")

	It("gives every flag that differs from the scenario's defaults, so it runs as printed", func() {
		got := scenarios.ReplayCommand(spec, scenarios.Options{Seed: 7, Flavor: "spock", Image: "spockpriv:6.0", Nodes: 5, Recovery: "reference", Duration: 30 * time.Second})
		Expect(got).To(Equal("spockchaos run lagged-kill-recovery --seed 7 --flavor spock --image spockpriv:6.0 --nodes 5 --recovery reference --duration 30s"))
	})

	It("leaves out what is the default", func() {
		got := scenarios.ReplayCommand(spec, scenarios.Options{Seed: 7, Flavor: "pglogical", Nodes: spec.Nodes, Recovery: spec.Recovery, Duration: spec.Load})
		Expect(got).To(Equal("spockchaos run lagged-kill-recovery --seed 7"))
	})
})
