package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("pglogical-lww-tie-applies-remote", func() {
	tie := time.Date(2026, 12, 6, 14, 20, 1, 123456000, time.UTC)
	row := func(k int64, by string, ts time.Time) *verify.UniqRow {
		return &verify.UniqRow{K: k, U: 394016336, Writer: by, CommitTS: &ts}
	}
	// The swap seen: n1 and n3 hold n2's key, n2 holds n1's.
	swap := func(n2At time.Time) verify.UniqDisagreement {
		return verify.UniqDisagreement{U: 394016336, Line: "u=394016336: ...", Holders: map[string]*verify.UniqRow{
			"n1": row(3590203235235138, "n2-c0", tie), "n2": row(1577008216730810, "n1-c1", n2At), "n3": row(3590203235235138, "n2-c0", tie)}}
	}
	unique := func(d verify.UniqDisagreement, phantoms ...string) verify.CheckResult {
		return verify.CheckResult{Name: verify.UniqueCheckName, Verdict: verify.Fail, Summary: "1 of 900 unique values differ",
			Details: map[string]any{"differing": []verify.UniqDisagreement{d}, "unacknowledged": phantoms}}
	}
	class := func(key string, present, absent []string, at time.Time) verify.DivergenceClass {
		return verify.DivergenceClass{Table: "public.uniq_kv", PresentOn: present, AbsentOn: absent, Rows: 1,
			FirstCommit: &at, LastCommit: &at, Examples: []string{key}, Line: "1 row of public.uniq_kv missing on " + absent[0]}
	}
	convergence := func(classes ...verify.DivergenceClass) verify.CheckResult {
		return verify.CheckResult{Name: scenarios.CheckConvergence, Verdict: verify.Fail, Summary: "2 rows differ",
			Details: map[string]any{"classes": classes}}
	}
	swapped := convergence(class("(3590203235235138)", []string{"n1", "n3"}, []string{"n2"}, tie), class("(1577008216730810)", []string{"n2"}, []string{"n1", "n3"}, tie))
	pass := verify.CheckResult{Name: "durability", Verdict: verify.Pass}
	with := []scenarios.Finding{scenarios.PglogicalTieAppliesRemote}

	DescribeTable("explains a swap only when every node's row of the value carries the same commit time",
		func(findings []scenarios.Finding, checks []verify.CheckResult, want bool, says string) {
			ok, why := scenarios.Explain(findings, GinkgoT().TempDir(), checks)
			Expect(ok).To(Equal(want), why)
			Expect(why).To(ContainSubstring(says))
		},
		Entry("the swap seen, one commit time on every node: explained",
			with, []verify.CheckResult{pass, swapped, unique(swap(tie))},
			true, "unique-conflict: 1 values held with different keys, every node's row of each committed in the same microsecond (pglogical-lww-tie-applies-remote); convergence: uniq_kv rows, keys of the ties (pglogical-lww-tie-applies-remote)"),
		Entry("n2's row a microsecond later (a real disagreement): not explained",
			with, []verify.CheckResult{swapped, unique(swap(tie.Add(time.Microsecond)))},
			false, "not a tie of commit times"),
		Entry("a row no acknowledged insert wrote: not explained",
			with, []verify.CheckResult{swapped, unique(swap(tie), "u=3 k=99 on n1: no insert of this key in the history")},
			false, "no acknowledged insert wrote"),
		Entry("convergence also names a key that is not the tie's: not explained",
			with, []verify.CheckResult{convergence(class("(3590203235235138)", []string{"n1", "n3"}, []string{"n2"}, tie), class("(42)", []string{"n2"}, []string{"n1", "n3"}, tie)), unique(swap(tie))},
			false, "uniq_kv row (42) is not a key of a tie"),
		Entry("convergence rows committed at another time: not explained",
			with, []verify.CheckResult{convergence(class("(3590203235235138)", []string{"n1", "n3"}, []string{"n2"}, tie.Add(time.Second))), unique(swap(tie))},
			false, "not committed at a tie's time"),
		Entry("durability failed too: not explained",
			with, []verify.CheckResult{{Name: "durability", Verdict: verify.Fail, Summary: "lost"}, swapped, unique(swap(tie))},
			false, ""),
		Entry("a scenario without the finding (control): not explained",
			[]scenarios.Finding{scenarios.SpockDiscardAfterTerm}, []verify.CheckResult{swapped, unique(swap(tie))},
			false, "no finding explains it"),
	)
})
