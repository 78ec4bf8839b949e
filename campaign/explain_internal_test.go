package campaign

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
)

var _ = DescribeTable("a failed cell's checkers a discard can account for",
	func(checks []verify.CheckResult, want string) {
		Expect(unexplainedChecker(checks)).To(Equal(want))
	},
	Entry("rows missing and the discard's exception_log rows", []verify.CheckResult{
		{Name: verify.ConvergenceCheckName, Verdict: verify.Fail}, {Name: verify.DurabilityCheckName, Verdict: verify.Fail},
		{Name: verify.ExceptionAuditCheckName, Verdict: verify.Fail}, {Name: verify.ReplicationHealthCheckName, Verdict: verify.Pass},
		{Name: verify.DoubleApplyCheckName, Verdict: verify.Skipped}}, ""),
	Entry("a transaction applied twice is no discard", []verify.CheckResult{
		{Name: verify.ConvergenceCheckName, Verdict: verify.Fail}, {Name: verify.DoubleApplyCheckName, Verdict: verify.Fail}}, verify.DoubleApplyCheckName),
	Entry("a checker that could not judge", []verify.CheckResult{
		{Name: verify.ConvergenceCheckName, Verdict: verify.Fail}, {Name: verify.ReplicationHealthCheckName, Verdict: verify.Unknown}}, verify.ReplicationHealthCheckName),
)
