package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("the nearest scenario name to a typo", func() {
	names := []string{"baseline", "kill-mid-load", "lagged-kill-recovery", "partition-heal"}
	DescribeTable("is suggested only when it is close",
		func(typo, want string) { Expect(scenarios.Nearest(typo, names)).To(Equal(want)) },
		Entry("one letter dropped", "lagged-kill-recovry", "lagged-kill-recovery"),
		Entry("two letters swapped", "baesline", "baseline"),
		Entry("one letter changed", "kill-mid-loud", "kill-mid-load"),
		Entry("an exact name is its own nearest", "partition-heal", "partition-heal"),
		Entry("a wholly different word gets none", "frobnicate", ""),
		Entry("a short word far from all gets none", "xy", ""),
		Entry("empty gets none", "", ""),
	)
	It("names the nearest catalog scenario in Lookup's error", func() {
		_, err := scenarios.Lookup("lagged-kill-recovry")
		Expect(err).To(MatchError(ContainSubstring("did you mean lagged-kill-recovery?")))
		_, err = scenarios.Lookup("frobnicate")
		Expect(err).To(MatchError(Not(ContainSubstring("did you mean"))))
	})
})
