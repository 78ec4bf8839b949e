package capability_test

import (
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/capability"
	"github.com/spockchaos/spockchaos/recovery/spock"
)

var _ = Describe("a refusal up front", func() {
	DescribeTable("is, to errors.Is, the failure it prevents",
		func(c capability.Name, isNoAPI bool) {
			err := capability.Refusal([]capability.Need{{Step: "t+6s kill n3 (recover)", Cap: c}},
				capability.Have{c: capability.No("missing")}, "img:1")
			Expect(err).To(HaveOccurred())
			Expect(errors.Is(err, spock.ErrNoSpockAPI)).To(Equal(isNoAPI))
		},
		Entry("no Spock recovery API is spock.ErrNoSpockAPI", capability.SpockRecoveryAPI, true),
		Entry("no clock skew is not", capability.ClockSkew, false),
	)
})
