package scenarios_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("a run whose quiesce did not complete", func() {
	qerr := fmt.Errorf("%w: wait for sub_n1_n2 on n1 to be replicating: timed out after 2m0s", scenarios.ErrNotQuiesced)
	check := func(name string, v verify.Verdict) verify.CheckResult {
		return verify.CheckResult{Name: name, Verdict: v, Summary: name + " said so"}
	}
	DescribeTable("keeps its checkers' verdict only when replication-health or exception-audit failed",
		func(checks []verify.CheckResult, wantErr bool, verdict verify.Verdict) {
			got, err := scenarios.AfterStalledQuiesce(qerr, checks)
			if wantErr {
				Expect(err).To(MatchError(scenarios.ErrNotQuiesced), "the run stays unknown")
				Expect(got).To(Equal(checks))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(verify.Combine(got)).To(Equal(verdict))
			for _, c := range got {
				switch {
				case c.Name == scenarios.CheckReplicationHealth || c.Name == scenarios.CheckExceptionAudit || c.Verdict == verify.Skipped:
					Expect(c.Summary).To(Equal(c.Name+" said so"), "left as it was")
				default:
					Expect(c.Summary).To(ContainSubstring("judged on survivors that never quiesced: the survivors did not quiesce"))
				}
			}
		},
		Entry("replication-health failed, convergence too: FAIL, convergence marked",
			[]verify.CheckResult{check(scenarios.CheckConvergence, verify.Fail), check(scenarios.CheckReplicationHealth, verify.Fail)}, false, verify.Fail),
		Entry("replication-health failed, convergence passed: still FAIL, never a pass",
			[]verify.CheckResult{check(scenarios.CheckConvergence, verify.Pass), check(scenarios.CheckReplicationHealth, verify.Fail), check(scenarios.CheckExceptionAudit, verify.Skipped)}, false, verify.Fail),
		Entry("exception-audit failed (Spock discarded applies), replication-health passed: FAIL",
			[]verify.CheckResult{check(scenarios.CheckConvergence, verify.Fail), check(scenarios.CheckReplicationHealth, verify.Pass), check(scenarios.CheckExceptionAudit, verify.Fail)}, false, verify.Fail),
		Entry("replication-health passed, exception-audit skipped: unknown (the rows were not compared level)",
			[]verify.CheckResult{check(scenarios.CheckConvergence, verify.Fail), check(scenarios.CheckReplicationHealth, verify.Pass), check(scenarios.CheckExceptionAudit, verify.Skipped)}, true, verify.Unknown),
		Entry("replication-health could not judge: unknown",
			[]verify.CheckResult{check(scenarios.CheckConvergence, verify.Pass), check(scenarios.CheckReplicationHealth, verify.Unknown)}, true, verify.Unknown),
		Entry("no replication-health among the checkers: unknown",
			[]verify.CheckResult{check(scenarios.CheckConvergence, verify.Fail)}, true, verify.Unknown),
	)
})
