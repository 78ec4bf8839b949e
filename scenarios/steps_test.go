package scenarios_test

import (
	"encoding/json"
	"time"

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

var _ = Describe("the apply-worker steps", func() {
	spec, _ := scenarios.Lookup("apply-worker-faults")

	It("plan each apply-worker fault once, on a link, with a moment each worker fault can have on both flavors", func() {
		for seed := int64(1); seed <= 20; seed++ {
			var got []string
			for _, s := range scenarios.NewPlan(spec, seed, 3, spec.Load).Steps {
				Expect(s.Peer).NotTo(BeEmpty(), "seed %d: %s", seed, s)
				Expect(s.Node).NotTo(Equal(s.Peer), "seed %d: %s", seed, s)
				Expect(s.Kind == scenarios.StepCancelApply && s.When == "idle").To(BeFalse(), "seed %d: pglogical refuses %s", seed, s)
				got = append(got, s.Kind+" "+s.When)
			}
			Expect(got).To(Equal([]string{"cancel-walsender idle", "cancel-walsender in-txn", "cancel-apply in-txn",
				"kill-apply in-txn", "lock-apply "}), "seed %d", seed)
		}
	})

	It("print their moment, and a step without one prints and encodes as before", func() {
		s := scenarios.Step{At: time.Second, Kind: scenarios.StepKillApply, Node: "n2", Peer: "n1", When: "in-txn"}
		Expect(s.String()).To(Equal("t+1s kill-apply n2 from n1 in-txn"))
		s.When = ""
		Expect(s.String()).To(Equal("t+1s kill-apply n2 from n1"))
		b, err := json.Marshal(s)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(Equal(`{"at":1000000000,"kind":"kill-apply","node":"n2","peer":"n1"}`))
	})
})

var _ = DescribeTable("a step's moment is checked before anything starts",
	func(kind, when, refusal string) {
		p := scenarios.Plan{Nodes: []string{"n1", "n2", "n3"}, Steps: []scenarios.Step{{Kind: kind, Node: "n1", Peer: "n2", When: when}}}
		err := scenarios.CheckPlan(p)
		if refusal == "" {
			Expect(err).NotTo(HaveOccurred())
			return
		}
		Expect(err).To(MatchError(ContainSubstring(refusal)))
	},
	Entry("cancel-apply in-txn", scenarios.StepCancelApply, "in-txn", ""),
	Entry("cancel-apply idle (Spock's; pglogical refuses it when it runs)", scenarios.StepCancelApply, "idle", ""),
	Entry("cancel-walsender idle", scenarios.StepCancelWalsender, "idle", ""),
	Entry("kill-apply wherever it lands, as old plans have it", scenarios.StepKillApply, "", ""),
	Entry("kill-apply in-txn", scenarios.StepKillApply, "in-txn", ""),
	Entry("a cancel needs a moment", scenarios.StepCancelWalsender, "", `takes moment ["idle" "in-txn"], not ""`),
	Entry("kill-apply has no idle", scenarios.StepKillApply, "idle", `not "idle"`),
	Entry("an unknown moment", scenarios.StepCancelApply, "soon", `not "soon"`),
	Entry("a kind without moments", scenarios.StepLockApply, "in-txn", `lock-apply takes moment [""]`),
)
