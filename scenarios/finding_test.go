package scenarios_test

import (
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
		for _, name := range []string{"replication-process-faults", "rejoin-after-recovery"} {
			s, err := scenarios.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.FindingFor("spock")).NotTo(BeNil(), name)
			Expect(s.FindingFor("pglogical")).To(BeNil(), name)
		}
	})
})
