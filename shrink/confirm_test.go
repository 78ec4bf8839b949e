package shrink_test

import (
	"bytes"
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/shrink"
	"github.com/spockchaos/spockchaos/verify"
)

// byRun is a decide function that answers, for the candidate with load d,
// the outcomes in order, one per run (fail convergence once they run out);
// every other load passes.
func byRun(f *fake, d time.Duration, outcomes ...shrink.Outcome) func(shrink.Candidate) (shrink.Outcome, error) {
	n := 0
	return func(c shrink.Candidate) (shrink.Outcome, error) {
		if c.Duration != d {
			return passing, nil
		}
		n++
		if n <= len(outcomes) {
			return outcomes[n-1], nil
		}
		return failConvergence, nil
	}
}

var _ = Describe("Search --confirm", func() {
	var out bytes.Buffer
	ctx := context.Background()
	BeforeEach(func() { out.Reset() })

	// The original (10 s) always fails; the 5 s candidate fails once, then
	// passes: a timing-dependent failure.
	flaky := func(confirm int) (*shrink.Result, *fake) {
		f := &fake{}
		first := byRun(f, 5*time.Second, failConvergence, passing)
		f.decide = func(c shrink.Candidate) (shrink.Outcome, error) {
			if c.Duration == 10*time.Second {
				return failConvergence, nil
			}
			return first(c)
		}
		cfg := config(f, original(nil), &out)
		cfg.MinNodes, cfg.Original.Clients, cfg.Confirm = 3, 1, confirm
		res, err := shrink.Search(ctx, cfg)
		Expect(err).NotTo(HaveOccurred())
		return res, f
	}

	It("control: with one run a candidate that failed once is kept", func() {
		res, _ := flaky(1)
		Expect(res.Smallest.Duration).To(Equal(5 * time.Second))
	})

	It("keeps no candidate that does not fail the same way N runs in a row, and says how many did", func() {
		res, f := flaky(2)
		Expect(res.Reproduced).To(BeTrue())
		Expect(res.Smallest.Duration).To(Equal(10 * time.Second))
		Expect(res.Smaller).To(BeFalse())
		// the original twice, the 5 s candidate twice (fail, then pass)
		Expect(f.ran).To(HaveLen(4))
		Expect(res.Runs).To(Equal(4))
		Expect(res.Confirm).To(Equal(2))
		Expect(lines(&out)[0]).To(ContainSubstring("failed the same way 2 of 2 runs in a row -> reproduced"))
		Expect(lines(&out)[0]).To(ContainSubstring("reports/run-1, reports/run-2)"))
		Expect(lines(&out)[1]).To(HavePrefix("attempt 2 [load]"))
		Expect(lines(&out)[1]).To(ContainSubstring("-> pass, failing none, failed the same way 1 of 2 runs in a row -> not kept"))
	})

	It("keeps a candidate that fails the same way every time, running it N times", func() {
		f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return c.Duration >= 5*time.Second })}
		cfg := config(f, original(nil), &out)
		cfg.MinNodes, cfg.Original.Clients, cfg.Confirm = 3, 1, 3
		res, err := shrink.Search(ctx, cfg)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Smallest.Duration).To(Equal(5 * time.Second))
		// original x3, 5 s x3, 2.5 s once (passes: no confirming run)
		Expect(f.ran).To(HaveLen(7))
		Expect(lines(&out)[1]).To(ContainSubstring("failed the same way 3 of 3 runs in a row -> KEPT"))
		Expect(res.Summary()).To(ContainSubstring("each kept candidate failed so 3 runs in a row"))
	})

	It("counts another failing checker as not the same way", func() {
		f := &fake{}
		other := shrink.Outcome{Verdict: verify.Fail, Failing: []string{"durability"}}
		f.decide = byRun(f, 10*time.Second, failConvergence, other)
		cfg := config(f, original(nil), &out)
		cfg.Confirm = 3
		res, err := shrink.Search(ctx, cfg)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Reproduced).To(BeFalse())
		Expect(f.ran).To(HaveLen(2), "stops at the first run that differs")
		Expect(lines(&out)[0]).To(ContainSubstring("failed the same way 1 of 3 runs in a row -> NOT reproduced"))
	})

	It("starts a candidate only when all its runs fit the budget", func() {
		f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
		cfg := config(f, original(nil), &out)
		cfg.Confirm, cfg.Budget = 2, 3
		res, err := shrink.Search(ctx, cfg)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.ran).To(HaveLen(2))
		Expect(res.Stopped).To(Equal(shrink.StoppedBudget))
	})

	It("refuses a negative count before running anything", func() {
		f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
		cfg := config(f, original(nil), &out)
		cfg.Confirm = -1
		_, err := shrink.Search(ctx, cfg)
		Expect(err).To(MatchError(ContainSubstring("--confirm must be at least 1")))
		Expect(f.ran).To(BeEmpty())
	})
})
