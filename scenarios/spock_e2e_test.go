package scenarios_test

import (
	"fmt"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/spock"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// The Spock suite (make spock): every gate scenario on the Spock image
// named by SPOCKCHAOS_SPOCK_IMAGE, for each seed of SPOCKCHAOS_SPOCK_SEEDS
// (default: the gate seed), with the scenario's own recovery strategy
// (auto: Spock's API when the image has one, else reference), then
// lagged-kill-recovery with --recovery spock and --recovery reference
// side by side. Without the image every spec is skipped, saying why.
var _ = Describe("the gate scenarios on a Spock image", Label("e2e", "spock"), func() {
	image := os.Getenv(recoverytest.SpockImageEnv)
	BeforeEach(func() {
		if image == "" {
			Skip(recoverytest.SpockSkipReason)
		}
	})
	for _, seed := range spockSeeds() {
		for _, spec := range scenarios.All() {
			if !spec.HasLabel(scenarios.LabelGate) {
				continue
			}
			// A scenario with known Spock findings may also FAIL by them,
			// explained from the servers' evidence (runAndCheck).
			It(fmt.Sprintf("%s (seed %d) ends with verdict %s%s", spec.Name, seed, spec.ExpectFor("spock"), findingsNote(spec, "spock")), func(ctx SpecContext) {
				runAndCheck(ctx, spec, scenarios.Options{Seed: seed, Flavor: "spock", Image: image})
			}, SpecTimeout(spec.Timeout+spec.Load))
		}
	}

	It("runs lagged-kill-recovery with Spock's own recovery and with the reference side by side", func(ctx SpecContext) {
		spec, err := scenarios.Lookup("lagged-kill-recovery")
		Expect(err).NotTo(HaveOccurred())
		seed := spockSeeds()[0]
		ref := runAndCheck(ctx, spec, scenarios.Options{Seed: seed, Flavor: "spock", Image: image, Recovery: "reference"})
		Expect(ref.Run.Recovery.TransactionsRecovered).To(BeNumerically(">", 0))

		opts := scenarios.Options{Seed: seed, Flavor: "spock", Image: image, Recovery: "spock", OutDir: artifactsDir(), Progress: GinkgoWriter}
		out, err := scenarios.Run(ctx, spec, opts)
		line := fmt.Sprintf("%s on %s: reference %s (%d transactions recovered)", spec.Name, image, ref.Verdict, ref.Run.Recovery.TransactionsRecovered)
		if err != nil {
			// An image without a recovery API must be refused, clearly.
			Expect(err).To(MatchError(spock.ErrNoSpockAPI), "replay: %s", scenarios.ReplayCommand(spec, opts))
			line += "; spock: refused (no recovery API)"
		} else {
			// Spock's own recovery is judged by its effect: pass, or a
			// FAIL of the system with the missing keys named; never unknown.
			Expect(out.Verdict).To(BeElementOf(verify.Pass, verify.Fail), "report %s\n%s", out.Dir, summaryOf(out.Dir))
			rec := out.Run.Recovery
			Expect(rec).NotTo(BeNil())
			Expect(rec.Calls).NotTo(BeEmpty(), "Spock's recovery functions were not called")
			line += fmt.Sprintf("; spock %s (%d transactions moved; %s)", out.Verdict, rec.TransactionsRecovered, strings.Join(rec.Findings, "; "))
			if out.Verdict == verify.Fail {
				var conv, recd *verify.CheckResult
				for i, c := range out.Run.Checkers {
					switch c.Name {
					case scenarios.CheckConvergence:
						conv = &out.Run.Checkers[i]
					case scenarios.CheckRecovered:
						recd = &out.Run.Checkers[i]
					}
				}
				Expect(recd).NotTo(BeNil())
				Expect(recd.Verdict).To(Equal(verify.Fail))
				Expect(recd.Summary).To(ContainSubstring("returned"), "the recovered checker must say what Spock's calls returned")
				Expect(conv).NotTo(BeNil())
				Expect(conv.Verdict).To(Equal(verify.Fail), "survivors diverged but convergence passed")
			}
		}
		GinkgoWriter.Println(line)
		AddReportEntry("spock vs reference", line)
	}, SpecTimeout(2*(spec("lagged-kill-recovery").Timeout+spec("lagged-kill-recovery").Load)))
})

// spockSeeds are the seeds of SPOCKCHAOS_SPOCK_SEEDS (space separated),
// default the gate seed.
func spockSeeds() []int64 {
	var seeds []int64
	for _, f := range strings.Fields(os.Getenv("SPOCKCHAOS_SPOCK_SEEDS")) {
		var s int64
		if _, err := fmtSscan(f, &s); err == nil {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		seeds = []int64{gateSeed}
	}
	return seeds
}

func spec(name string) *scenarios.Spec {
	s, err := scenarios.Lookup(name)
	if err != nil {
		panic(err)
	}
	return s
}
