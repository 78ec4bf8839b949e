package reports_test

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/workload/history"
)

var _ = Describe("activity from the history", func() {
	It("counts completions per node per second, measures latency, and shades the kill to the end", func() {
		a := reports.ActivityOf(syntheticHistory())
		Expect(a.Seconds).To(Equal(10))
		Expect(a.Nodes).To(HaveLen(3))
		n1, n2, n3 := a.Nodes[0], a.Nodes[1], a.Nodes[2]
		Expect(n1.Node).To(Equal("n1"))
		Expect(n1.Ok[0]).To(BeNumerically("==", 10))
		Expect(n1.Ok[5]).To(BeNumerically("==", 0), "n1 is dead from 5 s")
		Expect(n2.Fail[6]).To(BeNumerically("==", 1))
		Expect(n2.Ok[6]).To(BeNumerically("==", 9))
		Expect(n3.Info[7]).To(BeNumerically("==", 1))
		Expect(n2.LatencyMean[3]).To(BeNumerically("~", 20, 0.001))
		Expect(n2.LatencyMax[3]).To(BeNumerically("~", 20, 0.001))
		Expect(a.Faults).To(HaveLen(1))
		Expect(a.Faults[0].Kind).To(Equal("kill"))
		Expect(a.Faults[0].From).To(BeNumerically("~", 5, 0.001))
		Expect(a.Faults[0].To).To(BeNumerically("==", 10))
	})

	It("reads a history whose last line was cut by a crash, but not one broken in the middle", func() {
		dir := GinkgoT().TempDir()
		path := filepath.Join(dir, "history.jsonl")
		writeHistory(path, syntheticHistory()[:4])
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteString(`{"index":4,"ty`)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
		ops, err := record.LoadHistory(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(ops).To(HaveLen(4))

		Expect(os.WriteFile(path, []byte("{\"index\":0}\nnot json\n{\"index\":2}\n"), 0o644)).To(Succeed())
		_, err = record.LoadHistory(path)
		Expect(err).To(MatchError(ContainSubstring("line 2")))
	})
})

var _ = Describe("faults from the history", func() {
	It("has one fault per injection, with its in-flight count, start and heal", func() {
		ops := syntheticHistory()
		heal := history.Op{Index: int64(len(ops)), Time: 9 * time.Second, Wall: t0.Add(9 * time.Second), Process: history.NemesisProcess, Node: "n1", Type: history.Fault, F: "kill",
			Value: mustJSON(history.FaultEvent{Phase: history.FaultHealed})}
		faults := record.FaultsFromHistory(append(ops, heal))
		Expect(faults).To(HaveLen(1))
		Expect(faults[0]).To(Equal(record.Fault{Kind: "kill", Node: "n1", InFlightAtKill: 1, Start: t0.Add(5 * time.Second), End: t0.Add(9 * time.Second)}))
	})
})
