package fault

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the clock-skew effect check's applied-commit condition", func() {
	DescribeTable("is required where the flavor keeps the origin's commit timestamp",
		func(flavor string, want bool) { Expect(appliedKeepsOriginStamp(flavor)).To(Equal(want)) },
		Entry("pglogical keeps it: required", "pglogical", true),
		Entry("spock stamps with the applying node's clock: recorded only", "spock", false),
	)

	const s = time.Second
	DescribeTable("judges a commit's stamp on the skewed node by the flavor's commit clock",
		func(flavor string, own, want, peak time.Duration, ok bool) {
			Expect(ownStampOK(flavor, own, want, peak, s)).To(Equal(ok))
		},
		Entry("pglogical, skewed ahead, stamped ahead", "pglogical", 30*s, 30*s, 30*s, true),
		Entry("pglogical, skew not in force (a no-op inject)", "pglogical", time.Duration(0), 30*s, 30*s, false),
		Entry("pglogical, healed, stamp still ahead", "pglogical", 29*s, time.Duration(0), 30*s, false),
		Entry("pglogical, healed, stamp back", "pglogical", time.Duration(0), time.Duration(0), 30*s, true),
		Entry("spock, skewed ahead, stamped ahead", "spock", 30*s, 30*s, 30*s, true),
		Entry("spock, skew not in force (a no-op inject)", "spock", time.Duration(0), 30*s, 30*s, false),
		Entry("spock, healed, stamp held ahead by the monotonic commit clock", "spock", 29*s, time.Duration(0), 30*s, true),
		Entry("spock, healed, stamp further ahead than the skew ever was", "spock", 45*s, time.Duration(0), 30*s, false),
		Entry("spock, healed, stamp behind the clock", "spock", -5*s, time.Duration(0), 30*s, false),
		Entry("spock, skewed back, stamp held at the real time", "spock", time.Duration(0), -30*s, time.Duration(0), true),
		Entry("spock, skewed back, stamp further back than the skew", "spock", -40*s, -30*s, time.Duration(0), false),
		Entry("spock, skewed back after another node was 30 s ahead: stamp held by the cluster's mark", "spock", 27*s, -20*s, 30*s, true),
		Entry("pglogical, skewed back after another node was ahead: stamp must follow the clock", "pglogical", 27*s, -20*s, 30*s, false),
	)
})
