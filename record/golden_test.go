package record_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
)

// goldenDirs are run directories (run.json and results.json) written by
// the code before the record package existed: three real runs (a lagged
// kill with recovery and the slot keeper, a pause then a kill, a run
// stopped by its timeout in recover), the small seed run and the
// reports package's synthetic run.
func goldenDirs() []string {
	dirs, err := filepath.Glob(filepath.Join("testdata", "golden", "*"))
	Expect(err).NotTo(HaveOccurred())
	Expect(dirs).To(HaveLen(6))
	return dirs
}

var _ = Describe("run.json of earlier run directories", func() {
	It("loads and is written again byte for byte", func() {
		for _, dir := range goldenDirs() {
			stored, err := os.ReadFile(filepath.Join(dir, record.RunFile))
			Expect(err).NotTo(HaveOccurred())
			run, err := record.Load(dir)
			Expect(err).NotTo(HaveOccurred(), dir)
			out := filepath.Join(GinkgoT().TempDir(), record.RunFile)
			Expect(record.WriteJSON(out, run)).To(Succeed())
			written, err := os.ReadFile(out)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(written)).To(Equal(string(stored)), dir)
		}
	})

	It("keeps the server settings of a run and what each node showed for them", func() {
		run, err := record.Load(filepath.Join("testdata", "golden", "20261206T031455Z-baseline-s1457671122"))
		Expect(err).NotTo(HaveOccurred())
		Expect(run.Settings).To(Equal(map[string]string{"work_mem": "8MB"}))
		Expect(run.Replay).To(HaveSuffix(" --set work_mem=8MB"))
		Expect(run.Nodes).To(HaveLen(3))
		for _, n := range run.Nodes {
			Expect(n.Settings).To(Equal(map[string]string{"work_mem": "8MB"}), n.Name)
		}
		older, err := record.Load(filepath.Join("testdata", "golden", "20261206T020104Z-lagged-kill-recovery-s7"))
		Expect(err).NotTo(HaveOccurred())
		Expect(older.Settings).To(BeNil())
	})

	It("keeps what the readers use: scenario, verdict, recovery, faults, interruption", func() {
		run, err := record.Load(filepath.Join("testdata", "golden", "20261206T020104Z-lagged-kill-recovery-s7"))
		Expect(err).NotTo(HaveOccurred())
		Expect(run.Scenario).To(Equal("lagged-kill-recovery"))
		Expect(run.EffectiveVerdict()).To(Equal(record.Pass))
		Expect(run.Recovery).NotTo(BeNil())
		Expect(run.Recovery.TransactionsRecovered).To(BeNumerically(">", 0))
		Expect(run.SlotKeeper).NotTo(BeNil())
		Expect(run.RecoveryTimes).NotTo(BeEmpty())
		Expect(run.Faults).NotTo(BeEmpty())

		stopped, err := record.Load(filepath.Join("testdata", "golden", "20261206T020327Z-kill-mid-load-s5"))
		Expect(err).NotTo(HaveOccurred())
		Expect(stopped.Interrupted).To(Equal(&record.Interruption{Phase: record.PhaseRecover, By: record.StoppedByTimeout, At: stopped.Interrupted.At}))
		Expect(stopped.EffectiveVerdict()).To(Equal(record.Unknown))
	})

	It("would fail on a field the record dropped", func() {
		dir := GinkgoT().TempDir()
		stored, err := os.ReadFile(filepath.Join("testdata", "golden", "seedrun", record.RunFile))
		Expect(err).NotTo(HaveOccurred())
		edited := []byte(string(stored[:len(stored)-2]) + ",\n  \"field_of_the_future\": 1\n}\n")
		Expect(os.WriteFile(filepath.Join(dir, record.RunFile), edited, 0o644)).To(Succeed())
		run, err := record.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		out := filepath.Join(dir, "again.json")
		Expect(record.WriteJSON(out, run)).To(Succeed())
		written, err := os.ReadFile(out)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(written)).NotTo(Equal(string(edited)))
	})
})
