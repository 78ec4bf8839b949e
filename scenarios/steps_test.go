package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("the step table", func() {
	It("has an entry for every step kind a catalog plan names", func() {
		for _, spec := range scenarios.All() {
			for seed := int64(1); seed <= 20; seed++ {
				for _, s := range scenarios.NewPlan(spec, seed, spec.Nodes, spec.Load).Steps {
					Expect(scenarios.StepKindKnown(s.Kind)).To(BeTrue(), "%s seed %d: step %s", spec.Name, seed, s)
				}
			}
		}
	})

	It("has no entry for a kind no plan may name", func() {
		Expect(scenarios.StepKindKnown("unplug-the-datacenter")).To(BeFalse())
	})
})
