package reports_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
)

var _ = Describe("recovery times", func() {
	It("are in results.json per failed node, and report.html shows them, a node never level included", func() {
		parent := GinkgoT().TempDir()
		run := syntheticRun()
		killed := t0.Add(5 * time.Second)
		run.RecoveryTimes = []record.RecoveryTime{
			{Node: "n1", Killed: killed, Detected: killed.Add(300 * time.Millisecond), Level: killed.Add(1234 * time.Millisecond),
				Seconds: 1.234, DetectSeconds: 0.3, RecoverSeconds: 0.934, DecodeSeconds: 0.4, ApplySeconds: 0.5, Transactions: 42},
			{Node: "n2", Killed: killed, Detected: killed.Add(time.Second), Error: "not recovered (strategy none)"},
		}
		dir, err := record.NewRunDir(parent, run.Scenario, run.Seed, t0)
		Expect(err).NotTo(HaveOccurred())
		hist := filepath.Join(parent, "history-src.jsonl")
		writeHistory(hist, syntheticHistory())
		Expect(reports.Write(dir, run, hist)).To(Succeed())

		b, err := os.ReadFile(filepath.Join(dir, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		var res map[string]any
		Expect(json.Unmarshal(b, &res)).To(Succeed())
		Expect(res["recovery_times"]).To(ConsistOf(
			And(HaveKeyWithValue("node", "n1"), HaveKeyWithValue("seconds", 1.234), HaveKeyWithValue("apply_seconds", 0.5), HaveKey("level")),
			And(HaveKeyWithValue("node", "n2"), HaveKeyWithValue("seconds", 0.0), Not(HaveKey("level")), HaveKeyWithValue("error", "not recovered (strategy none)"))))

		page, err := os.ReadFile(filepath.Join(dir, "report.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(page)).To(And(ContainSubstring(`id="recovery-time"`), ContainSubstring("<b>1.23 s</b>"), ContainSubstring("never level: not recovered (strategy none)")))
	})
})
