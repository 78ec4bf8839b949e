package shrink_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/shrink"
	"github.com/spockchaos/spockchaos/verify"
)

// About six runs of kill-without-recovery with loads of 5 s and less:
// about 3 minutes on 2 cores.
var _ = Describe("shrink of the no-recovery control", Label("e2e"), func() {
	It("finds a run with the lag and the kill only, at a shorter load, that still fails convergence", func(ctx SpecContext) {
		spec, err := scenarios.Lookup("kill-without-recovery")
		Expect(err).NotTo(HaveOccurred())
		parent := GinkgoT().TempDir()
		const load = 10 * time.Second // the scenario's own: 5 s was seen to fail still, 2.5 s not
		first, err := scenarios.Run(ctx, spec, scenarios.Options{Seed: 20261125, Duration: load, OutDir: parent, Progress: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		Expect(first.Verdict).To(Equal(verify.Fail))

		// the re-run, ddmin over the 2 steps (2 runs, a 3rd when the kill
		// alone still fails: the empty plan), then the load halved
		res, err := shrink.Shrink(ctx, first.Dir, shrink.Options{OutDir: parent, Budget: 5, Out: GinkgoWriter, Status: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Reproduced).To(BeTrue())
		Expect(res.Runs).To(BeNumerically("<=", 5))
		Expect(res.Failing).To(ContainElement(scenarios.CheckConvergence))
		Expect(res.Smaller).To(BeTrue())
		Expect(res.Smallest.Duration).To(BeNumerically("<", load))
		var kinds []string
		for _, s := range res.Smallest.Steps {
			kinds = append(kinds, s.Kind)
		}
		// The lag and the kill only; the kill may be enough on its own (the
		// transactions in flight on the victim are lost without recovery),
		// in which case ddmin rightly drops the lag too.
		Expect(kinds).To(ContainElement(scenarios.StepKill))
		Expect(kinds).To(HaveEach(BeElementOf(scenarios.StepLag, scenarios.StepKill)))
		Expect(res.SmallestDir).To(BeADirectory())
		Expect(res.Command).To(HavePrefix("spockchaos "))
		GinkgoWriter.Println(res.Summary())
		GinkgoWriter.Println("smallest failing command:", res.Command)
	}, NodeTimeout(10*time.Minute))
})
