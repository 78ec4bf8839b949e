package scenarios_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// 6.0 under sub_disable: after a SIGTERM inside a transaction the next
// worker disables the subscription over it, with no error (the log lines
// of provider-faults seed 7).
var _ = Describe("a subscription disabled over a transaction (HoldLogs)", func() {
	commit := time.Date(2026, 12, 6, 15, 26, 36, 464375000, time.UTC)
	const hold = "2026-12-06 15:26:37.164 UTC [116] LOG:  SPOCK sub_n1_n3: Transaction failed, subscription will be disabled at LSN 0/A95C4E0\n" +
		"2026-12-06 15:26:37.164 UTC [116] CONTEXT:  apply COMMIT in commit before 0/A95C4B0, xid 86365 committed at 2026-12-06 15:26:36.464375+00 (action #7) from node replorigin 9057\n"
	const holdCancel = "2026-12-06 15:26:37.164 UTC [116] LOG:  SPOCK sub_n1_n3: Transaction failed, subscription will be disabled at LSN 0/A95C4E0. Initial error: [SQLSTATE 57014] canceling statement due to user request\n" +
		"2026-12-06 15:26:37.164 UTC [116] CONTEXT:  apply COMMIT in commit before 0/A95C4B0, xid 86365 committed at 2026-12-06 15:26:36.464375+00 (action #7) from node replorigin 9057\n"
	audit := verify.CheckResult{Name: scenarios.CheckExceptionAudit, Verdict: verify.Fail, Summary: "5 rows",
		Details: map[string]any{"unexplained_exceptions": []verify.ExceptionRow{{Node: "n1", Origin: "n3", Subscription: "sub_n1_n3",
			RemoteXID: 86365, RemoteCommitTS: commit, Table: "public.ledger", Operation: "INSERT", Error: "sub_disable: tuple discarded due to exception (root cause not captured)"}}}}
	missing := verify.CheckResult{Name: scenarios.CheckConvergence, Verdict: verify.Fail, Summary: "5 rows differ",
		Details: map[string]any{"classes": []verify.DivergenceClass{{Table: "public.ledger", PresentOn: []string{"n2", "n3"}, AbsentOn: []string{"n1"},
			Origins: []string{"n3"}, FirstCommit: &commit, LastCommit: &commit, Rows: 5, Line: "5 rows of origin n3 on n2, n3 but not on n1"}}}}
	pass := verify.CheckResult{Name: scenarios.CheckConvergence, Verdict: verify.Pass}

	DescribeTable("explains the exception_log rows of the held transaction, never rows missing",
		func(log string, findings []scenarios.Finding, checks []verify.CheckResult, want bool, says string) {
			ok, why := explainWithLog(findings, "n1", log, checks)
			Expect(ok).To(Equal(want), why)
			Expect(why).To(ContainSubstring(says))
		},
		Entry("the rows logged of a transaction the subscription was disabled over, nothing missing: explained",
			hold, []scenarios.Finding{scenarios.SpockDiscardAfterTerm}, []verify.CheckResult{pass, audit},
			true, "exception-audit: its 1 rows are of the discarded (or held) transactions"),
		Entry("the same transaction's rows missing: a hold explains no missing row",
			hold, []scenarios.Finding{scenarios.SpockDiscardAfterTerm}, []verify.CheckResult{missing, audit},
			false, "n1 never logged a discard"),
		Entry("a hold line with a cancel's initial error is the cancel finding's, not the SIGTERM one's",
			holdCancel, []scenarios.Finding{scenarios.SpockDiscardAfterTerm}, []verify.CheckResult{pass, audit},
			false, "never logged a discard (or a disable over it) the findings own of remote xid 86365"),
		Entry("... and the cancel finding takes it",
			holdCancel, []scenarios.Finding{scenarios.SpockDiscardAfterCancel}, []verify.CheckResult{pass, audit},
			true, "of the discarded (or held) transactions"),
		Entry("control: a finding without HoldLogs does not",
			hold, []scenarios.Finding{scenarios.SpockDiscardDeadlockVictim}, []verify.CheckResult{pass, audit},
			false, "never logged a discard (or a disable over it)"),
	)
})

// explainWithLog runs Explain on a run directory whose only file is
// node's server log.
func explainWithLog(findings []scenarios.Finding, node, log string, checks []verify.CheckResult) (bool, string) {
	dir := GinkgoT().TempDir()
	Expect(os.MkdirAll(filepath.Join(dir, "nodes", node), 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "nodes", node, "server.log"), []byte(log), 0o644)).To(Succeed())
	return scenarios.Explain(findings, dir, checks)
}
