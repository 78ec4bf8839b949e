package scenarios_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// The rejoin check must be able to fail: the same scenario with the
// lagging survivor's progress for the victim set back after recovery (as
// a broken bookkeeping would leave it) must fail, naming rows applied twice.
var _ = Describe("rejoin after recovery with its bookkeeping broken on purpose", Label("e2e", "scenario"), func() {
	It("fails the rejoined check, naming the victim's rows the lagging survivor applied again", func(ctx SpecContext) {
		base, err := scenarios.Lookup("rejoin-after-recovery")
		Expect(err).NotTo(HaveOccurred())
		spec := *base
		spec.Name, spec.Expect = "rejoin-broken-bookkeeping", verify.Fail
		spec.Faults = func(r scenarios.Rand, nodes []string, load time.Duration) []scenarios.Step {
			steps := scenarios.RejoinAfterRecovery(r, nodes, load)
			lag, rejoin := steps[0], steps[2]
			rewind := scenarios.Step{At: rejoin.At - time.Millisecond, Kind: scenarios.StepRewindProgress, Node: lag.Node, Peer: lag.Peer}
			return []scenarios.Step{steps[0], steps[1], rewind, rejoin}
		}
		opts := scenarios.Options{Seed: gateSeed, OutDir: artifactsDir(), Progress: GinkgoWriter}
		out, err := scenarios.Run(ctx, &spec, opts)
		Expect(err).NotTo(HaveOccurred(), "harness error")
		Expect(out.Verdict).To(Equal(verify.Fail), summaryOf(out.Dir))
		var rejoined *verify.CheckResult
		for i, c := range out.Run.Checkers {
			if c.Name == scenarios.CheckRejoined {
				rejoined = &out.Run.Checkers[i]
			}
		}
		Expect(rejoined).NotTo(BeNil())
		Expect(rejoined.Verdict).To(Equal(verify.Fail), rejoined.Summary)
		GinkgoWriter.Printf("rejoined: %s\n", rejoined.Summary)
		keys := reports.FirstKeys(*rejoined, 5)
		Expect(keys).NotTo(BeEmpty())
		victim := out.Plan.Steps[1].Node
		Expect(strings.Join(keys, " ")).To(ContainSubstring("-"+victim+"-c"), "the rows named are the victim's")
	}, SpecTimeout(8*time.Minute))
})
