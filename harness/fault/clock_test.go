package fault

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the clock-skew effect check's applied-commit condition", func() {
	DescribeTable("is required where the flavor keeps the origin's commit timestamp",
		func(flavor string, want bool) { Expect(appliedKeepsOriginStamp(flavor)).To(Equal(want)) },
		Entry("pglogical keeps it: required", "pglogical", true),
		Entry("spock stamps with the applying node's clock: recorded only", "spock", false),
	)
})
