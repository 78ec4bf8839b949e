package repro_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/repro"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("repro of a real run", Label("e2e"), func() {
	It("re-runs a stored baseline run and comes out with the same plan and verdict", func(ctx SpecContext) {
		spec, err := scenarios.Lookup("baseline")
		Expect(err).NotTo(HaveOccurred())
		parent := GinkgoT().TempDir()
		first, err := scenarios.Run(ctx, spec, scenarios.Options{Seed: 4242, Duration: 2 * time.Second, OutDir: parent, Progress: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		Expect(first.Verdict).To(Equal(verify.Pass))

		res, err := repro.Run(ctx, first.Dir, repro.Options{OutDir: parent, Progress: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Outcome.Dir).NotTo(Equal(first.Dir))
		Expect(res.Outcome.Plan.String()).To(Equal(first.Plan.String()))
		Expect(res.Outcome.Run.Config).To(HaveKeyWithValue("load", "2s"))
		Expect(res.Warnings).To(BeEmpty())
		Expect(res.Reproduced).To(BeTrue())
	}, NodeTimeout(5*time.Minute))
})
