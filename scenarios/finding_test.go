package scenarios_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// The server log of n2 in a replication-process-faults run on Spock 6.0
// (seed 20261125) that lost n1's xid 19225: the restarted apply worker
// discarded it.
const spockDiscardLog = `2026-12-02 00:17:45.067 UTC [53] [unknown]@postgres LOG:  SPOCK sub_n2_n1: falling out of apply_work() sigterm=true
2026-12-02 00:17:45.070 UTC [53] [unknown]@postgres LOG:  apply worker [53] at slot 1 generation 1 detaching cleanly
2026-12-02 00:17:45.350 UTC [81] [unknown]@postgres LOG:  SPOCK sub_n2_n1: connected
2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/2B97D60
2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres CONTEXT:  apply COMMIT in commit before 0/2B97D60, xid 19225 committed at 2026-12-02 00:17:44.35654+00 (action #7) from node replorigin 49708 forwarded from commit 0/0 on node 49708
`

var _ = Describe("a known finding of the system under test", func() {
	commit := time.Date(2026, 12, 2, 0, 17, 44, 356540000, time.UTC)
	run := func(logs map[string]string, classes ...verify.DivergenceClass) (string, []verify.CheckResult) {
		dir := GinkgoT().TempDir()
		for node, log := range logs {
			Expect(os.MkdirAll(filepath.Join(dir, "nodes", node), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "nodes", node, "server.log"), []byte(log), 0o644)).To(Succeed())
		}
		return dir, []verify.CheckResult{{Name: scenarios.CheckConvergence, Verdict: verify.Fail,
			Details: &verify.ConvergenceReport{Classes: classes}}}
	}
	missing := func(on string, t time.Time) verify.DivergenceClass {
		return verify.DivergenceClass{Table: "public.ledger", PresentOn: []string{"n1", "n3"}, AbsentOn: []string{on},
			Origins: []string{"n1"}, FirstCommit: &t, LastCommit: &t, Rows: 5, Line: "5 rows of origin n1 on n1, n3 but not on " + on}
	}
	f := scenarios.SpockDiscardAfterTerm

	It("explains rows missing on the node that logged their transaction's discard", func() {
		dir, checks := run(map[string]string{"n2": spockDiscardLog}, missing("n2", commit))
		ok, why := f.Explains(dir, checks)
		Expect(ok).To(BeTrue(), why)
		Expect(why).To(ContainSubstring("n2 discarded the transaction committed at 2026-12-02 00:17:44.35654+00"))
	})

	It("does not explain rows missing on a node that logged no discard", func() {
		dir, checks := run(map[string]string{"n2": spockDiscardLog, "n3": "LOG: fine\n"}, missing("n3", commit))
		ok, why := f.Explains(dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("n3 never logged"))
	})

	It("does not explain a transaction other than the discarded one", func() {
		dir, checks := run(map[string]string{"n2": spockDiscardLog}, missing("n2", commit.Add(time.Millisecond)))
		ok, why := f.Explains(dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("00:17:44.35754+00"))
	})

	It("does not explain a discard that logged its initial error (a cancel of the worker, not a SIGTERM)", func() {
		// n2 of an apply-worker-faults run on Spock 6.0 (seed 7, 2026-12-06).
		cancelled := strings.Replace(spockDiscardLog, "at LSN 0/2B97D60\n",
			"at LSN 0/2B97D60. Initial error: [SQLSTATE 57014] canceling statement due to user request\n", 1)
		Expect(cancelled).NotTo(Equal(spockDiscardLog))
		dir, checks := run(map[string]string{"n2": cancelled}, missing("n2", commit))
		ok, why := f.Explains(dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("n2 never logged"))
	})

	It("does not explain rows whose values differ", func() {
		c := missing("n2", commit)
		c.DifferingColumns = []string{"payload"}
		dir, checks := run(map[string]string{"n2": spockDiscardLog}, c)
		ok, _ := f.Explains(dir, checks)
		Expect(ok).To(BeFalse())
	})

	It("does not explain a run whose convergence passed", func() {
		ok, _ := f.Explains(GinkgoT().TempDir(), []verify.CheckResult{{Name: scenarios.CheckConvergence, Verdict: verify.Pass}})
		Expect(ok).To(BeFalse())
	})

	It("is attached to the scenarios that hit it on Spock, and only on Spock", func() {
		for _, name := range []string{"replication-process-faults", "rejoin-after-recovery", "apply-worker-faults"} {
			s, err := scenarios.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.FindingsFor("spock")).To(ContainElement(scenarios.SpockDiscardAfterTerm), name)
			Expect(s.FindingsFor("pglogical")).To(BeEmpty(), name)
		}
		s, err := scenarios.Lookup("apply-worker-faults")
		Expect(err).NotTo(HaveOccurred())
		Expect(s.FindingsFor("spock")).To(ContainElements(scenarios.SpockDiscardAfterCancel, scenarios.SpockDiscardDeadlockVictim))
	})
})

// Discard lines of each release and cause (n2 of apply-worker-faults runs,
// seed 7, 2026-12-06: Spock 6.0 fd2c484 and 5.0.11; 5.0.7 to 5.0.9 log the
// initial error without its SQLSTATE, src/spock_apply.c of each tag).
const (
	discard60        = "LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/59BF5A8"
	discard60Cancel  = "LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/488C9B8. Initial error: [SQLSTATE 57014] canceling statement due to user request"
	discard5Cancel   = "LOG:  SPOCK sub_n2_n1: transaction discarded (TRANSDISCARD) at LSN 0/4704188. Initial error: [SQLSTATE 57014] canceling statement due to user request"
	discard507Cancel = "LOG:  SPOCK sub_n2_n1: transaction discarded (TRANSDISCARD) at LSN 0/4704188. Initial error: canceling statement due to user request"
	discard5Deadlock = "LOG:  SPOCK sub_n1_n3: transaction discarded (TRANSDISCARD) at LSN 0/94C86D8. Initial error: [SQLSTATE 40P01] deadlock detected"
	discard507Dead   = "LOG:  SPOCK sub_n1_n3: transaction discarded (TRANSDISCARD) at LSN 0/94C86D8. Initial error: deadlock detected"
	discard5         = "LOG:  SPOCK sub_n2_n1: transaction discarded (TRANSDISCARD) at LSN 0/59BF5A8"
	discardOther     = "LOG:  SPOCK sub_n2_n1: transaction discarded (TRANSDISCARD) at LSN 0/59BF5A8. Initial error: [SQLSTATE 23505] duplicate key value violates unique constraint"
	notADiscard      = "LOG:  SPOCK: caught initial exception - [SQLSTATE 57014] canceling statement due to user request"
	// 5.0.11 under exception_behaviour sub_disable.
	subDisable5Dead = "LOG:  SPOCK sub_n1_n3: exception handled (SUB_DISABLE) at LSN 0/AF7F2F8. Initial error: [SQLSTATE 40P01] deadlock detected"
	subDisable5Term = "LOG:  SPOCK sub_n1_n3: exception handled (SUB_DISABLE) at LSN 0/7C27158"
	// 6.0 under sub_disable: the subscription is disabled, nothing lost.
	subDisable60 = "LOG:  SPOCK sub_n2_n1: Transaction failed, subscription will be disabled at LSN 0/2C99200. Initial error: [SQLSTATE 57014] canceling statement due to user request"
)

var _ = DescribeTable("which finding owns a discard line",
	func(line string, term, cancel, deadlock bool, subDisable ...bool) {
		Expect(scenarios.SpockDiscardAfterTerm.Owns(line)).To(Equal(term), "SIGTERM")
		Expect(scenarios.SpockDiscardAfterCancel.Owns(line)).To(Equal(cancel), "cancel")
		Expect(scenarios.SpockDiscardDeadlockVictim.Owns(line)).To(Equal(deadlock), "deadlock")
		Expect(scenarios.SpockSubDisableLosesTxn.Owns(line)).To(Equal(len(subDisable) > 0 && subDisable[0]), "sub_disable")
	},
	Entry("5.0.11 sub_disable, 40P01: sub_disable only", subDisable5Dead, false, false, false, true),
	Entry("5.0.11 sub_disable, no initial error: sub_disable only", subDisable5Term, false, false, false, true),
	Entry("6.0 sub_disable disables the subscription: none", subDisable60, false, false, false, false),
	Entry("6.0, no initial error: SIGTERM", discard60, true, false, false),
	Entry("5.0.x wording, no initial error: SIGTERM", discard5, true, false, false),
	Entry("6.0, 57014: cancel", discard60Cancel, false, true, false),
	Entry("5.0.10/11, 57014: cancel", discard5Cancel, false, true, false),
	Entry("5.0.7-5.0.9, cancel without SQLSTATE: cancel", discard507Cancel, false, true, false),
	Entry("5.0.11, 40P01: deadlock, not cancel", discard5Deadlock, false, false, true),
	Entry("5.0.7-5.0.9, deadlock without SQLSTATE", discard507Dead, false, false, true),
	Entry("another initial error: none", discardOther, false, false, false),
	Entry("the caught exception, not a discard: none", notADiscard, false, false, false),
)

var _ = Describe("findings explaining a FAIL together, row for row", func() {
	const (
		ts    = "2026-12-06 06:%s UTC [78] "
		ctx   = "CONTEXT:  apply COMMIT in commit before 0/488C9B8, xid %d committed at 2026-12-06 06:%s+00 (action #%d) from node replorigin 49708 forwarded from commit 0/0 on node 49708\n"
		large = "21:58.897861"
		small = "22:11.094894"
	)
	entry := func(at, line string, xid int, commit string, actions int) string {
		return fmt.Sprintf(ts, at) + line[len("LOG:  "):] + "\n" + fmt.Sprintf(ts, at) + fmt.Sprintf(ctx, xid, commit, actions)
	}
	at := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04:05.999999", "2026-12-06 06:"+s)
		Expect(err).NotTo(HaveOccurred())
		return t
	}
	// One class as the 6.0 run's: 30,005 rows of n1 lacking on n2, the
	// cancelled large transaction first, a SIGTERM's 5 rows last.
	class := func(rows int64) verify.DivergenceClass {
		first, last := at(large), at(small)
		return verify.DivergenceClass{Table: "public.ledger", PresentOn: []string{"n1", "n3"}, AbsentOn: []string{"n2"},
			Origins: []string{"n1"}, FirstCommit: &first, LastCommit: &last, Rows: rows, Line: "public.ledger: rows of origin n1 on n1, n3 but not on n2"}
	}
	explain := func(log string, c verify.DivergenceClass, fs ...scenarios.Finding) (bool, string) {
		dir := GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(dir, "nodes", "n2"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "nodes", "n2", "server.log"), []byte(log), 0o644)).To(Succeed())
		return scenarios.Explain(fs, dir, []verify.CheckResult{{Name: scenarios.CheckConvergence, Verdict: verify.Fail,
			Details: &verify.ConvergenceReport{Classes: []verify.DivergenceClass{c}}}})
	}
	both := entry("22:12.896", "LOG:  "+discard60Cancel[len("LOG:  "):], 30703, large, 30002) +
		entry("22:15.720", discard60, 48123, small, 7)

	It("explains the 6.0 run's class by the cancel and the SIGTERM findings", func() {
		ok, why := explain(both, class(30005), scenarios.SpockFindings...)
		Expect(ok).To(BeTrue(), why)
		Expect(why).To(ContainSubstring("spock-discards-txn-after-cancel"))
		Expect(why).To(ContainSubstring("spock-discards-txn-after-sigterm"))
		Expect(why).NotTo(ContainSubstring("deadlock"))
	})

	It("does not explain it by the SIGTERM finding alone (the cancel's discard is not its)", func() {
		ok, why := explain(both, class(30005), scenarios.SpockDiscardAfterTerm)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("n2 never logged a discard of spock-discards-txn-after-sigterm for the transaction committed at 2026-12-06 06:21:58.897861+00"))
	})

	It("does not explain more rows than the discarded transactions changed", func() {
		ok, why := explain(both, class(30006), scenarios.SpockFindings...)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("hold 30005 row changes, fewer than the 30006 rows"))
	})

	It("does not explain a class whose first transaction's discard is missing from the log", func() {
		ok, why := explain(entry("22:15.720", discard60, 48123, small, 7), class(5), scenarios.SpockFindings...)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("never logged"))
	})

	It("explains a 5.0.11 cancel (its wording) and not by the deadlock finding", func() {
		first := at(large)
		c := class(30000)
		c.LastCommit = &first
		log := entry("22:12.896", discard5Cancel, 30703, large, 30002)
		ok, why := explain(log, c, scenarios.SpockDiscardAfterCancel)
		Expect(ok).To(BeTrue(), why)
		ok, _ = explain(log, c, scenarios.SpockDiscardDeadlockVictim)
		Expect(ok).To(BeFalse())
	})

	It("explains a 5.0.x deadlock victim by the deadlock finding only", func() {
		first := at(large)
		c := class(2)
		c.LastCommit = &first
		log := entry("22:12.896", discard5Deadlock, 90869, large, 4)
		ok, why := explain(log, c, scenarios.SpockDiscardDeadlockVictim)
		Expect(ok).To(BeTrue(), why)
		ok, _ = explain(log, c, scenarios.SpockDiscardAfterCancel, scenarios.SpockDiscardAfterTerm)
		Expect(ok).To(BeFalse())
	})
})
