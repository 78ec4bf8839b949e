package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("spock-discard-mode-logs-applied-rows", func() {
	commit := time.Date(2026, 12, 6, 12, 0, 1, 0, time.UTC)
	row := func(msg string) verify.ExceptionRow {
		return verify.ExceptionRow{Node: "n2", Origin: "n1", Subscription: "sub_n2_n1", RemoteXID: 4711,
			RemoteCommitTS: commit, Table: "public.ledger", Operation: "INSERT", Error: msg}
	}
	applied := row("discard: tuple discarded due to exception at command_counter 3")
	// The row at the action that failed first carries the initial error.
	firstFailed := row("[SQLSTATE 57014] canceling statement due to user request")
	otherTxn := func(r verify.ExceptionRow) verify.ExceptionRow { r.RemoteXID = 4712; return r }
	audit := func(rows ...verify.ExceptionRow) verify.CheckResult {
		return verify.CheckResult{Name: scenarios.CheckExceptionAudit, Verdict: verify.Fail, Summary: "unexplained rows",
			Details: map[string]any{"unexplained_exceptions": rows}}
	}
	pass := func(name string) verify.CheckResult { return verify.CheckResult{Name: name, Verdict: verify.Pass} }
	fail := func(name string) verify.CheckResult {
		return verify.CheckResult{Name: name, Verdict: verify.Fail, Summary: "rows differ"}
	}
	withFinding := []scenarios.Finding{scenarios.SpockDiscardAfterCancel, scenarios.SpockDiscardModeLogsApplied}

	DescribeTable("explains exception_log rows only when they are the applied-row wording and every row is there",
		func(findings []scenarios.Finding, checks []verify.CheckResult, want bool, says string) {
			ok, why := explainWithLog(findings, "n2", "LOG:  SPOCK: caught initial exception - [SQLSTATE 57014] canceling statement due to user request\n", checks)
			Expect(ok).To(Equal(want), why)
			Expect(why).To(ContainSubstring(says))
		},
		Entry("discard-mode rows, exception-audit the only failing checker: explained",
			withFinding, []verify.CheckResult{pass(scenarios.CheckConvergence), pass(scenarios.CheckHistory), audit(applied, applied)},
			true, "its 2 rows, logged as discarded, are on every survivor (spock-discard-mode-logs-applied-rows)"),
		Entry("the same rows while convergence failed (rows may be missing): not explained",
			withFinding, []verify.CheckResult{fail(scenarios.CheckConvergence), audit(applied)},
			false, ""),
		Entry("another message (a real apply error) among them: not explained",
			withFinding, []verify.CheckResult{pass(scenarios.CheckConvergence), audit(applied, row("[SQLSTATE 23505] duplicate key value violates unique constraint"))},
			false, "never logged a discard"),
		Entry("the row of the first failed action, in a transaction whose other rows have the applied-row wording: explained",
			withFinding, []verify.CheckResult{pass(scenarios.CheckConvergence), audit(applied, firstFailed, applied)},
			true, "its 3 rows, logged as discarded, are on every survivor"),
		Entry("an initial error's row of a transaction with no applied-row wording: not explained",
			withFinding, []verify.CheckResult{pass(scenarios.CheckConvergence), audit(applied, otherTxn(firstFailed))},
			false, "never logged a discard"),
		Entry("an initial error no finding takes (only the applied-row finding): not explained",
			[]scenarios.Finding{scenarios.SpockDiscardModeLogsApplied}, []verify.CheckResult{pass(scenarios.CheckConvergence), audit(applied, firstFailed)},
			false, "never logged a discard"),
		Entry("a scenario without the finding (control): not explained",
			[]scenarios.Finding{scenarios.SpockDiscardAfterCancel}, []verify.CheckResult{pass(scenarios.CheckConvergence), audit(applied)},
			false, "never logged a discard"),
	)
})
