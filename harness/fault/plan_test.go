package fault_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness/fault"
)

var _ = Describe("a fault plan", func() {
	cfg := fault.PlanConfig{
		Nodes: []string{"n1", "n2", "n3"}, Kinds: []string{"kill", "pause", "partition"},
		Earliest: 2 * time.Second, Latest: 8 * time.Second,
	}

	It("is the same for the same seed, whatever the order of the nodes", func() {
		a, err := fault.NewPlan(7, cfg)
		Expect(err).NotTo(HaveOccurred())
		shuffled := cfg
		shuffled.Nodes = []string{"n3", "n1", "n2"}
		b, err := fault.NewPlan(7, shuffled)
		Expect(err).NotTo(HaveOccurred())
		Expect(b.String()).To(Equal(a.String()))
		Expect(a.String()).To(HavePrefix("seed=7 kind="))
	})

	It("keeps the victim and the survivor apart and the time inside the window", func() {
		for seed := range int64(200) {
			p, err := fault.NewPlan(seed, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(p.Victim).To(BeElementOf(cfg.Nodes))
			Expect(p.Survivor).To(BeElementOf(cfg.Nodes))
			Expect(p.Survivor).NotTo(Equal(p.Victim))
			Expect(p.Kind).To(BeElementOf(cfg.Kinds))
			Expect(p.At).To(BeNumerically(">=", cfg.Earliest))
			Expect(p.At).To(BeNumerically("<=", cfg.Latest))
		}
	})

	It("varies with the seed: every node is a victim for some seed, and times differ", func() {
		victims := map[string]bool{}
		times := map[time.Duration]bool{}
		for seed := range int64(50) {
			p, err := fault.NewPlan(seed, cfg)
			Expect(err).NotTo(HaveOccurred())
			victims[p.Victim] = true
			times[p.At] = true
		}
		Expect(victims).To(HaveLen(3))
		Expect(len(times)).To(BeNumerically(">", 40))
	})

	It("defaults to kill and refuses a config it cannot plan", func() {
		p, err := fault.NewPlan(1, fault.PlanConfig{Nodes: []string{"n1", "n2"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(p.Kind).To(Equal("kill"))
		Expect(p.At).To(BeZero())
		_, err = fault.NewPlan(1, fault.PlanConfig{Nodes: []string{"n1"}})
		Expect(err).To(MatchError(ContainSubstring("at least 2 nodes")))
		_, err = fault.NewPlan(1, fault.PlanConfig{Nodes: []string{"n1", "n2"}, Earliest: time.Second})
		Expect(err).To(MatchError(ContainSubstring("is empty")))
	})
})
