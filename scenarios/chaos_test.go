package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("the chaos plan", func() {
	spec, _ := scenarios.Lookup("chaos")
	newKinds := []string{scenarios.StepPartition, scenarios.StepPause, scenarios.StepRestart, scenarios.StepLinkLatency,
		scenarios.StepLinkBandwidth, scenarios.StepLinkReset, scenarios.StepClockSkew, scenarios.StepKillWalsender,
		scenarios.StepKillApply, scenarios.StepStopApply, scenarios.StepLinkLoss}

	It("draws distinct faults of every kind across seeds and ends with a lagged kill of the lag's origin", func() {
		seen := map[string]int{}
		for seed := int64(1); seed <= 30; seed++ {
			steps := scenarios.NewPlan(spec, seed, 3, spec.Load).Steps
			Expect(len(steps)).To(BeNumerically(">=", 10), "seed %d", seed)
			body, lag, kill := steps[:len(steps)-2], steps[len(steps)-2], steps[len(steps)-1]
			kinds := map[string]bool{}
			for _, s := range body {
				Expect(kinds).NotTo(HaveKey(s.Kind), "seed %d draws %s twice", seed, s.Kind)
				kinds[s.Kind] = true
				seen[s.Kind]++
				Expect(s.Hold).To(BeNumerically("<=", 5*time.Second), "seed %d: %s", seed, s)
				Expect(s.Node).NotTo(Equal(s.Peer))
			}
			Expect(lag.Kind).To(BeElementOf(scenarios.StepLag, scenarios.StepSlowLink))
			Expect(kill.Kind).To(Equal(scenarios.StepKill))
			Expect(lag.Peer).To(Equal(kill.Node))
			Expect(lag.Node).NotTo(Equal(kill.Node))
		}
		for _, k := range newKinds {
			Expect(seen[k]).To(BeNumerically(">", 0), "no seed drew %s", k)
		}
	})

	It("asks for link proxies and libfaketime only when a step needs them", func() {
		for seed := int64(1); seed <= 30; seed++ {
			p := scenarios.NewPlan(spec, seed, 3, spec.Load)
			links, clock := false, false
			for _, s := range p.Steps {
				links = links || s.Kind == scenarios.StepSlowLink || s.Kind == scenarios.StepLinkLatency ||
					s.Kind == scenarios.StepLinkBandwidth || s.Kind == scenarios.StepLinkReset
				clock = clock || s.Kind == scenarios.StepClockSkew
			}
			Expect(p.NeedsLinkProxies()).To(Equal(links), "seed %d", seed)
			Expect(p.NeedsClockSkew()).To(Equal(clock), "seed %d", seed)
		}
		base, _ := scenarios.Lookup("lagged-kill-recovery")
		p := scenarios.NewPlan(base, 1, 3, base.Load)
		Expect(p.NeedsLinkProxies()).To(BeFalse())
		Expect(p.NeedsClockSkew()).To(BeFalse())
	})

	It("names the clock offset and the link latency in the printed plan", func() {
		s := scenarios.Step{At: time.Second, Kind: scenarios.StepClockSkew, Node: "n2", Amount: -20 * time.Second, Hold: 4 * time.Second}
		Expect(s.String()).To(Equal("t+1s clock-skew n2 by -20s for 4s"))
	})
})

var _ = Describe("the slow-link recovery scenarios", func() {
	It("slow the link from the very node that is killed, before the kill", func() {
		for _, name := range []string{"bank-slow-link-recovery", "slow-link-recovery"} {
			spec, err := scenarios.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			for seed := int64(1); seed <= 20; seed++ {
				steps := scenarios.NewPlan(spec, seed, 3, spec.Load).Steps
				Expect(steps).To(HaveLen(2))
				Expect(steps[0].Kind).To(Equal(scenarios.StepSlowLink))
				Expect(steps[1].Kind).To(Equal(scenarios.StepKill))
				Expect(steps[0].Peer).To(Equal(steps[1].Node))
				Expect(steps[0].At).To(BeNumerically("<", steps[1].At))
			}
		}
	})
})
