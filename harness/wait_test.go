package harness_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

var _ = Describe("waiting with a backoff", func() {
	It("checks at once, then at doubling intervals up to the most, and names what it awaited on timeout", func() {
		var at []time.Time
		err := harness.WaitForBackoff(context.Background(), "the moon", 300*time.Millisecond, 5*time.Millisecond, 40*time.Millisecond,
			func(context.Context) (bool, string, error) {
				at = append(at, time.Now())
				return false, "still full", nil
			})
		Expect(err).To(MatchError(And(ContainSubstring("wait for the moon: timed out after 300ms"), ContainSubstring("still full"))))
		Expect(len(at)).To(BeNumerically(">=", 6))
		// Gaps grow 5, 10, 20, 40 ms and then stay at 40 (never less than asked).
		for i, want := range []time.Duration{5, 10, 20, 40, 40} {
			Expect(at[i+1].Sub(at[i])).To(BeNumerically(">=", want*time.Millisecond), "gap %d", i)
		}
		// 300 ms at 40 ms at most: far fewer checks than at a fixed 5 ms.
		Expect(len(at)).To(BeNumerically("<", 20))
	})

	It("returns as soon as the check says done", func() {
		n := 0
		Expect(harness.WaitForBackoff(context.Background(), "three checks", time.Second, time.Millisecond, 10*time.Millisecond,
			func(context.Context) (bool, string, error) { n++; return n == 3, "", nil })).To(Succeed())
		Expect(n).To(Equal(3))
	})
})
