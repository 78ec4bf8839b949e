package campaign_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// n2's log lines of a Spock 6.0 run in which a restarted apply worker
// discarded n1's xid 19225 (scenarios.SpockDiscardAfterTerm).
const discardLog = `2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/2B97D60
2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres CONTEXT:  apply COMMIT in commit before 0/2B97D60, xid 19225 committed at 2026-12-02 00:17:44.35654+00 (action #7) from node replorigin 49708 forwarded from commit 0/0 on node 49708
`

var _ = Describe("a campaign report re-judges stored FAILs with this build's known findings", func() {
	var (
		dir  string
		m    campaign.Matrix
		cell campaign.CellResult
	)
	// One replication-process-faults cell on Spock that FAILed with rows
	// of n1 missing on n2; the fake run stored no evidence, so the cell
	// was judged unexplained when it ended.
	BeforeEach(func() {
		dir = filepath.Join(GinkgoT().TempDir(), "camp")
		m = campaign.Matrix{Scenarios: []string{"replication-process-faults"}, Seeds: []int64{7},
			Targets: []campaign.Target{{Flavor: "spock", Image: "spock:6"}}}.Normalize()
		fake := &fakeRunner{verdictOf: func(*scenarios.Spec, scenarios.Options, int) verify.Verdict { return verify.Fail }}
		c, _, err := campaign.Run(context.Background(), dir, m, campaign.Options{Run: fake.run, Progress: io.Discard})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Cells).To(HaveLen(1))
		cell = c.Cells[0]
		Expect(cell.Explained).To(BeEmpty())
		commit := time.Date(2026, 12, 2, 0, 17, 44, 356540000, time.UTC)
		runDir := filepath.Join(dir, cell.RunDir)
		run := &record.Run{Scenario: cell.Scenario, Seed: cell.Seed, Flavor: "spock", Verdict: verify.Fail}
		run.Checkers = []verify.CheckResult{{Name: scenarios.CheckConvergence, Verdict: verify.Fail,
			Details: &verify.ConvergenceReport{Classes: []verify.DivergenceClass{{Table: "public.ledger",
				PresentOn: []string{"n1", "n3"}, AbsentOn: []string{"n2"}, Origins: []string{"n1"},
				FirstCommit: &commit, LastCommit: &commit, Rows: 5}}}}}
		Expect(record.WriteJSON(filepath.Join(runDir, record.RunFile), run)).To(Succeed())
	})
	serverLog := func(text string) {
		node := record.NodeDir(filepath.Join(dir, cell.RunDir), "n2")
		Expect(os.MkdirAll(node, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(node, "server.log"), []byte(text), 0o644)).To(Succeed())
	}
	index := func() campaign.CellResult {
		c, err := campaign.Index(dir, m, campaign.Shard{})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Cells).To(HaveLen(1))
		return c.Cells[0]
	}

	It("counts a FAIL as explained once the server's evidence matches a finding", func() {
		serverLog(discardLog)
		r := index()
		Expect(r.Explained).To(ContainSubstring("n2 discarded the transaction committed at 2026-12-02 00:17:44.35654+00"))
		Expect(r.Outcome()).To(Equal(campaign.OutcomeExplained))
	})

	It("no longer counts a stored explanation whose evidence does not match (control)", func() {
		serverLog("LOG:  nothing was discarded\n")
		stored := cell
		stored.Explained = "an explanation an older build gave"
		Expect(record.WriteJSON(filepath.Join(campaign.CellDir(dir, cell.ID), campaign.CellFile), stored)).To(Succeed())
		r := index()
		Expect(r.Explained).To(BeEmpty())
		Expect(r.Outcome()).NotTo(Equal(campaign.OutcomeExplained))
	})
})
