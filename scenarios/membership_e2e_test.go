package scenarios_test

import (
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// checkerOf is the named checker's result in out's run (nil when absent).
func checkerOf(out *scenarios.Outcome, name string) *verify.CheckResult {
	for i, c := range out.Run.Checkers {
		if c.Name == name {
			return &out.Run.Checkers[i]
		}
	}
	return nil
}

// The membership scenarios' checks must be able to fail: a join that
// skips the copy and a removal that leaves a slot behind, each planted
// on purpose, must fail the check that is about them.
var _ = Describe("a node that joined under load", Label("e2e", "nightly"), func() {
	It("takes writes of its own from its join on, and they reach every peer", func(ctx SpecContext) {
		spec, err := scenarios.Lookup("join-under-load")
		Expect(err).NotTo(HaveOccurred())
		out := runAndCheck(ctx, spec, scenarios.Options{Seed: 7})
		ops, err := history.Load(filepath.Join(out.Dir, "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		var joinedOK int
		for _, op := range ops {
			if op.Type == history.Ok && op.Node == "n4" && strings.HasPrefix(op.Process, "n4-c") {
				joinedOK++
			}
		}
		// The pass above includes durability: each of these is on every node.
		Expect(joinedOK).To(BeNumerically(">", 100), "acknowledged writes on the joined n4")
		GinkgoWriter.Printf("n4 acknowledged %d writes\n", joinedOK)
	}, SpecTimeout(8*time.Minute))
})

var _ = Describe("joins and removals with a planted defect", Label("e2e", "nightly"), func() {
	It("fails convergence and durability when the new node joined without its data copied", func(ctx SpecContext) {
		base, err := scenarios.Lookup("join-under-load")
		Expect(err).NotTo(HaveOccurred())
		spec := *base
		spec.Name, spec.Expect = "join-without-copy", verify.Fail
		spec.Faults = func(r scenarios.Rand, nodes []string, load time.Duration) []scenarios.Step {
			steps := base.Faults(r, nodes, load)
			steps[0].When = "no-copy"
			return steps
		}
		out, err := scenarios.Run(ctx, &spec, scenarios.Options{Seed: 7, OutDir: artifactsDir(), Progress: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred(), "harness error")
		Expect(out.Verdict).To(Equal(verify.Fail), summaryOf(out.Dir))
		conv := checkerOf(out, scenarios.CheckConvergence)
		Expect(conv).NotTo(BeNil())
		Expect(conv.Verdict).To(Equal(verify.Fail), conv.Summary)
		Expect(conv.Summary).To(ContainSubstring("n4"))
		dur := checkerOf(out, "durability")
		Expect(dur).NotTo(BeNil())
		Expect(dur.Verdict).To(Equal(verify.Fail), dur.Summary)
		GinkgoWriter.Printf("convergence: %s\ndurability: %s\n", conv.Summary, dur.Summary)
	}, SpecTimeout(8*time.Minute))

	It("fails the membership check, naming the slot, when a slot of the removed node is left on a survivor", func(ctx SpecContext) {
		base, err := scenarios.Lookup("leave-under-load")
		Expect(err).NotTo(HaveOccurred())
		spec := *base
		spec.Name, spec.Expect = "leave-with-leftover", verify.Fail
		var gone, survivor string
		spec.Faults = func(r scenarios.Rand, nodes []string, load time.Duration) []scenarios.Step {
			steps := base.Faults(r, nodes, load)
			gone = steps[0].Node
			for _, n := range nodes {
				if n != gone {
					survivor = n
				}
			}
			return append(steps, scenarios.Step{At: steps[0].At + time.Millisecond, Kind: scenarios.StepPlantLeftover, Node: gone, Peer: survivor})
		}
		out, err := scenarios.Run(ctx, &spec, scenarios.Options{Seed: 7, OutDir: artifactsDir(), Progress: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred(), "harness error")
		Expect(out.Verdict).To(Equal(verify.Fail), summaryOf(out.Dir))
		m := checkerOf(out, scenarios.CheckMembership)
		Expect(m).NotTo(BeNil())
		Expect(m.Verdict).To(Equal(verify.Fail), m.Summary)
		Expect(m.Summary).To(ContainSubstring("slot planted_" + survivor + "_" + gone + " on " + survivor))
		GinkgoWriter.Printf("membership: %s\n", m.Summary)
	}, SpecTimeout(8*time.Minute))
})
