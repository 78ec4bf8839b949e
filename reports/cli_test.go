package reports_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// binary is the spockchaos CLI, built once for the suite.
var binary string

var _ = SynchronizedBeforeSuite(func() []byte {
	path, err := gexec.Build("github.com/spockchaos/spockchaos/cmd/spockchaos")
	Expect(err).NotTo(HaveOccurred())
	return []byte(path)
}, func(path []byte) { binary = string(path) })

var _ = SynchronizedAfterSuite(func() {}, gexec.CleanupBuildArtifacts)

// spockchaos runs the CLI on args and waits for it to exit.
func spockchaos(args ...string) *gexec.Session {
	s, err := gexec.Start(exec.Command(binary, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return s.Wait("30s")
}

// The offline commands, run as a user runs them: the spockchaos binary on
// a run directory, no cluster.
var _ = Describe("spockchaos report and check", func() {
	It("report DIR re-renders every report file from run.json and history.jsonl", func() {
		dir, _ := writeSyntheticRun(GinkgoT().TempDir())
		for _, name := range []string{"results.json", "junit.xml", "summary.md", "report.html"} {
			Expect(os.Remove(filepath.Join(dir, name))).To(Succeed())
		}
		s := spockchaos("report", dir)
		Expect(s).To(gexec.Exit(0))
		Expect(s.Out).To(gbytes.Say(`report.html: verdict fail \(scenario lagged-kill-recovery, seed 7\)`))
		for _, name := range []string{"results.json", "junit.xml", "summary.md", "report.html"} {
			Expect(filepath.Join(dir, name)).To(BeARegularFile())
		}
	})

	It("report DIR on a folder that is not a run exits 2 with one line on stderr", func() {
		s := spockchaos("report", GinkgoT().TempDir())
		Expect(s).To(gexec.Exit(2))
		Expect(s.Err).To(gbytes.Say(`spockchaos: report .*run.json`))
	})
})

// failingRunDir is a stored run where n2 acknowledged ledger txn t-1 but
// the final state shows it on n2 only: durability must fail, offline.
func failingRunDir(parent string, presentOnN3 bool) string {
	dir, err := record.NewRunDir(parent, "kill-one", 11, t0)
	Expect(err).NotTo(HaveOccurred())
	inv := history.Op{Index: 0, Time: 0, Wall: t0, Process: "n2-c0", Node: "n2", Type: history.Invoke, F: "ledger-txn", TxnID: "t-1", Value: json.RawMessage(`{"rows":2}`)}
	ok := inv
	ok.Index, ok.Time, ok.Wall, ok.Type = 1, 10*time.Millisecond, t0.Add(10*time.Millisecond), history.Ok
	writeHistory(filepath.Join(dir, record.HistoryFile), []history.Op{inv, ok})
	n3 := map[string]int{}
	if presentOnN3 {
		n3["t-1"] = 2
	}
	obs := &verify.Observation{CapturedAt: t0.Add(time.Second), Nodes: []string{"n2", "n3"}, PerNode: map[string]*verify.NodeObservation{
		"n2": {Ledger: map[string]int{"t-1": 2}},
		"n3": {Ledger: n3},
	}}
	run := &record.Run{Scenario: "kill-one", Seed: 11, Survivors: []string{"n2", "n3"}, Failed: []string{"n1"}, Observation: obs,
		Checkers: []verify.CheckResult{{Name: verify.DurabilityCheckName, Verdict: verify.Fail, Summary: "1 acknowledged write missing (as stored)"}}}
	Expect(reports.Write(dir, run, "")).To(Succeed())
	return dir
}

var _ = Describe("spockchaos check", func() {
	check := func(args ...string) *gexec.Session { return spockchaos(append([]string{"check"}, args...)...) }

	It("reproduces a stored durability failure without Docker, and exits 1", func() {
		dir := failingRunDir(GinkgoT().TempDir(), false)
		s := check(dir)
		Expect(s).To(gexec.Exit(1))
		Expect(s.Out).To(gbytes.Say(`durability\s+fail\s+fail`))
		Expect(s.Out).To(gbytes.Say(`verdict: fail .*unchanged`))

		s = check("--json", dir)
		Expect(s).To(gexec.Exit(1))
		var rc reports.Recheck
		Expect(json.Unmarshal(s.Out.Contents(), &rc)).To(Succeed())
		Expect(rc.Verdict).To(Equal(verify.Fail))
		Expect(rc.Changed).To(BeFalse())
		var durability verify.CheckResult
		for _, c := range rc.Checkers {
			if c.Name == verify.DurabilityCheckName {
				durability = c.Result
			}
		}
		Expect(durability.Verdict).To(Equal(verify.Fail))
		Expect(reports.FirstKeys(durability, 5)).To(ContainElement(ContainSubstring("t-1")))
	})

	It("says the verdict changed when the stored failure no longer holds, and exits 0", func() {
		dir := failingRunDir(GinkgoT().TempDir(), true)
		s := check(dir)
		Expect(s).To(gexec.Exit(0))
		Expect(s.Out).To(gbytes.Say(`durability\s+fail\s+pass`))
		Expect(s.Out).To(gbytes.Say(`verdict: pass .*CHANGED`))
	})

	It("exits 2 on a directory without a run", func() {
		Expect(check(GinkgoT().TempDir())).To(gexec.Exit(2))
	})
})
