package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("which faults may be in force together", func() {
	nodes := []string{"n1", "n2", "n3"}
	st := func(kind, node, peer string, many ...string) scenarios.Step {
		s := scenarios.Step{Kind: kind, Node: node, Peer: peer, Hold: time.Second}
		if len(many) > 0 {
			s.Nodes = many
		}
		return s
	}
	pause, restart, partition := scenarios.StepPause, scenarios.StepRestart, scenarios.StepPartition
	stop, killApply, killWal := scenarios.StepStopApply, scenarios.StepKillApply, scenarios.StepKillWalsender
	skew, latency := scenarios.StepClockSkew, scenarios.StepLinkLatency

	DescribeTable("overlapRefusal(earlier, later)",
		func(earlier, later scenarios.Step, refused string) {
			why := scenarios.OverlapRefusal(earlier, later, nodes)
			if refused == "" {
				Expect(why).To(BeEmpty())
			} else {
				Expect(why).To(ContainSubstring(refused))
			}
		},
		// pause and crash-restart
		Entry("pause n1, then pause n2", st(pause, "n1", ""), st(pause, "n2", ""), ""),
		Entry("pause n1, then pause n1", st(pause, "n1", ""), st(pause, "n1", ""), "needs n1 to answer"),
		Entry("restart n1, then pause n2,n3", st(restart, "n1", ""), st(pause, "n2", "", "n2", "n3"), ""),
		Entry("pause n1,n2, then restart n2", st(pause, "n1", "", "n1", "n2"), st(restart, "n2", ""), "needs n2 to answer"),
		Entry("pause n3, then partition n1 (cuts every node)", st(pause, "n3", ""), st(partition, "n1", ""), "needs n3 to answer"),
		Entry("pause n3, then cut n1-n2", st(pause, "n3", ""), st(partition, "n1", "", "n1", "n2"), ""),
		Entry("restart n3, then stop-apply n1 from n2", st(restart, "n3", ""), st(stop, "n1", "n2"), ""),
		Entry("pause n2, then stop-apply n1 from n2", st(pause, "n2", ""), st(stop, "n1", "n2"), "needs n2 to answer"),
		// partition first
		Entry("partition n1, then pause n2", st(partition, "n1", ""), st(pause, "n2", ""), ""),
		Entry("partition n1, then restart n2", st(partition, "n1", ""), st(restart, "n2", ""), "drops what partition set"),
		Entry("cut n1-n2, then restart n3", st(partition, "n1", "", "n1", "n2"), st(restart, "n3", ""), ""),
		Entry("partition n1, then partition n2", st(partition, "n1", ""), st(partition, "n2", ""), "blackhole routes"),
		Entry("partition n3, then kill-apply n1 from n2", st(partition, "n3", ""), st(killApply, "n1", "n2"), ""),
		Entry("partition n2, then kill-apply n1 from n2", st(partition, "n2", ""), st(killApply, "n1", "n2"), "is cut"),
		Entry("partition n3, then stop-apply n1 from n2", st(partition, "n3", ""), st(stop, "n1", "n2"), "must reach every other node"),
		Entry("cut n1-n2, then stop-apply n1 from n3", st(partition, "n1", "", "n1", "n2"), st(stop, "n1", "n3"), ""),
		Entry("cut n1-n2, then kill-walsender n3 -> n2", st(partition, "n1", "", "n1", "n2"), st(killWal, "n2", "n3"), ""),
		// worker first
		Entry("stop-apply n1 from n2, then partition n3", st(stop, "n1", "n2"), st(partition, "n3", ""), ""),
		Entry("stop-apply n1 from n2, then restart n2", st(stop, "n1", "n2"), st(restart, "n2", ""), ""),
		Entry("stop-apply n1 from n2, then restart n1", st(stop, "n1", "n2"), st(restart, "n1", ""), "ends the apply worker"),
		Entry("stop-apply n1 from n2, then pause n1", st(stop, "n1", "n2"), st(pause, "n1", ""), ""),
		Entry("stop-apply n1 from n2, then kill-apply n1 from n2", st(stop, "n1", "n2"), st(killApply, "n1", "n2"), "both act on the link"),
		Entry("kill-apply n1 from n2, then stop-apply n3 from n2", st(killApply, "n1", "n2"), st(stop, "n3", "n2"), "must reach n1"),
		Entry("stop-apply n1 from n2, then stop-apply n2 from n3", st(stop, "n1", "n2"), st(stop, "n2", "n3"), ""),
		// clock-skew only first
		Entry("clock-skew n1, then partition n2", st(skew, "n1", ""), st(partition, "n2", ""), ""),
		Entry("clock-skew n1, then restart n1", st(skew, "n1", ""), st(restart, "n1", ""), "drops what clock-skew set"),
		Entry("clock-skew n1, then stop-apply n2 from n1", st(skew, "n1", ""), st(stop, "n2", "n1"), ""),
		Entry("pause n2, then clock-skew n1", st(pause, "n2", ""), st(skew, "n1", ""), "only come first"),
		Entry("clock-skew n1, then clock-skew n2", st(skew, "n1", ""), st(skew, "n2", ""), "only come first"),
		// link faults and kinds without a rule never overlap
		Entry("link-latency n1, then pause n2", st(latency, "n1", ""), st(pause, "n2", ""), "marker arrival"),
		Entry("pause n2, then link-latency n1", st(pause, "n2", ""), st(latency, "n1", ""), "marker arrival"),
		Entry("a kill, then pause", st(scenarios.StepKill, "n1", ""), st(pause, "n2", ""), "without an overlap rule"),
		Entry("pause, then a lag", st(pause, "n1", ""), st(scenarios.StepLag, "n2", "n3"), "without an overlap rule"),
	)
})

var _ = Describe("the plan check", func() {
	plan := func(steps ...scenarios.Step) scenarios.Plan {
		return scenarios.Plan{Nodes: []string{"n1", "n2", "n3"}, Steps: steps}
	}
	pause := scenarios.Step{At: time.Second, Kind: scenarios.StepPause, Node: "n1", Hold: 2 * time.Second}
	thenPause := func(node string) scenarios.Step {
		return scenarios.Step{At: 2 * time.Second, Kind: scenarios.StepPause, Node: node, Hold: time.Second, Overlap: true}
	}

	It("accepts overlapping steps the rules allow, and multi-node steps", func() {
		all := scenarios.Step{At: 9 * time.Second, Kind: scenarios.StepRestart, Node: "n1", Nodes: []string{"n1", "n2", "n3"}, Hold: time.Second}
		Expect(scenarios.CheckPlan(plan(pause, thenPause("n2"), all))).To(Succeed())
	})

	DescribeTable("refuses, naming the step",
		func(p scenarios.Plan, want string) {
			Expect(scenarios.CheckPlan(p)).To(MatchError(ContainSubstring(want)))
		},
		Entry("a first step that overlaps", plan(thenPause("n2")), "the first step has no step to overlap"),
		Entry("a pair the rules refuse", plan(pause, thenPause("n1")), `step "& t+2s pause n1 for 1s": may not start while "t+1s pause n1 for 2s" is in force`),
		Entry("a refused pair further back in the group",
			plan(pause, thenPause("n2"), scenarios.Step{At: 3 * time.Second, Kind: scenarios.StepRestart, Node: "n1", Overlap: true}),
			`may not start while "t+1s pause n1 for 2s" is in force`),
		Entry("a kill that overlaps", plan(pause, scenarios.Step{At: 2 * time.Second, Kind: scenarios.StepKill, Node: "n2", Overlap: true}),
			"kill is not a held fault"),
		Entry("a step overlapping a lag", plan(scenarios.Step{Kind: scenarios.StepLag, Node: "n1", Peer: "n2"}, thenPause("n3")),
			"is not a held fault: nothing can overlap it"),
		Entry("several nodes on a kind of one", plan(scenarios.Step{Kind: scenarios.StepStopApply, Node: "n1", Peer: "n2", Nodes: []string{"n1", "n3"}}),
			"stop-apply acts on one node"),
		Entry("a partition of one node pairwise", plan(scenarios.Step{Kind: scenarios.StepPartition, Node: "n1", Nodes: []string{"n1"}}),
			"at least 2 nodes"),
		Entry("a node named twice", plan(scenarios.Step{Kind: scenarios.StepPause, Node: "n1", Nodes: []string{"n1", "n1"}}), "n1 named twice"),
		Entry("a node outside the plan", plan(scenarios.Step{Kind: scenarios.StepPause, Node: "n1", Nodes: []string{"n1", "n4"}}), "n4 is not one of"),
		Entry("Node not the first of Nodes", plan(scenarios.Step{Kind: scenarios.StepPause, Node: "n2", Nodes: []string{"n1", "n2"}}), "not the first"),
	)

	It("is what Register and Resolve check, before anything starts", func() {
		base, err := scenarios.Lookup("baseline")
		Expect(err).NotTo(HaveOccurred())
		bad := scenarios.WithPlan(base, []scenarios.Step{pause, thenPause("n1")}, 0)
		Expect(scenarios.ValidateSpec(bad)).To(MatchError(ContainSubstring("plan of seed 1: step")))
		_, err = scenarios.Resolve(bad, scenarios.Options{Seed: 3})
		Expect(err).To(MatchError(ContainSubstring("scenario baseline seed 3: step")))
	})

	It("prints the overlap and the nodes of a multi-node step in the plan", func() {
		p := plan(pause, thenPause("n2"), scenarios.Step{At: 5 * time.Second, Kind: scenarios.StepPartition, Node: "n1", Nodes: []string{"n1", "n2", "n3"}, Hold: time.Second})
		Expect(p.String()).To(ContainSubstring("(& starts while the steps above it in its group are in force; a group heals together after its last hold)\n" +
			"  t+1s pause n1 for 2s\n  & t+2s pause n2 for 1s\n  t+5s partition n1,n2,n3 for 1s\n"))
	})

	It("drops an Overlap with nothing to join when shrink removes steps (Regroup)", func() {
		steps := scenarios.Regroup([]scenarios.Step{thenPause("n2"), {Kind: scenarios.StepKill, Node: "n1"}, thenPause("n3"), thenPause("n2")})
		Expect([]bool{steps[0].Overlap, steps[2].Overlap, steps[3].Overlap}).To(Equal([]bool{false, false, true}))
	})
})

var _ = Describe("the chaos-overlap plan", func() {
	spec, err := scenarios.Lookup("chaos-overlap")
	It("is registered", func() { Expect(err).NotTo(HaveOccurred()) })

	It("draws groups of two or three faults in force together, one majority or every-node fault, then a lagged kill; the same for the same seed", func() {
		majorities, sizes, grouped := map[string]int{}, map[int]int{}, map[string]int{}
		for seed := int64(1); seed <= 40; seed++ {
			p := scenarios.NewPlan(spec, seed, 3, spec.Load)
			Expect(scenarios.NewPlan(spec, seed, 3, spec.Load).Steps).To(Equal(p.Steps), "seed %d", seed)
			Expect(scenarios.CheckPlan(p)).To(Succeed(), "seed %d", seed)
			n := len(p.Steps)
			Expect(p.Steps[n-2].Kind).To(Equal(scenarios.StepLag))
			Expect(p.NeedsLinkProxies()).To(BeFalse(), "seed %d", seed)
			Expect(p.Steps[n-1].Kind).To(Equal(scenarios.StepKill))
			Expect(p.Steps[n-2].Peer).To(Equal(p.Steps[n-1].Node))
			groups, majority := 0, 0
			for i, s := range p.Steps[:n-2] {
				// Group members act on one node, or cut one pair.
				if len(s.Nodes) > 0 && (s.Kind != scenarios.StepPartition || len(s.Nodes) == 3) {
					Expect(s.Overlap).To(BeFalse())
					majority++
					majorities[s.Kind]++
					continue
				}
				if !s.Overlap {
					groups++
				}
				size := 1
				for j := i + 1; j < n-2 && p.Steps[j].Overlap; j++ {
					size++
				}
				if !s.Overlap {
					sizes[size]++
				}
				if s.Overlap || size > 1 {
					grouped[s.Kind]++
				}
			}
			Expect(majority).To(Equal(1), "seed %d:\n%s", seed, p)
			Expect(groups).To(BeNumerically(">=", 2), "seed %d", seed)
		}
		Expect(majorities).To(HaveLen(3), "pause of a majority, restart of all, every pair cut")
		Expect(sizes[2]).To(BeNumerically(">", 0))
		Expect(sizes[3]).To(BeNumerically(">", 0))
		for _, k := range []string{scenarios.StepPartition, scenarios.StepPause, scenarios.StepRestart, scenarios.StepStopApply, scenarios.StepKillApply, scenarios.StepClockSkew} {
			Expect(grouped[k]).To(BeNumerically(">", 0), "no seed overlaps %s with another fault", k)
		}
	})
})
