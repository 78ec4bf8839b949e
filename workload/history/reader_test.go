package history_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/workload/history"
)

var _ = Describe("history reader", func() {
	It("reads back what many concurrent writers recorded, valid and paired", func() {
		var buf bytes.Buffer
		rec := history.NewRecorder(&buf)
		const clients, opsEach = 16, 200
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				process := fmt.Sprintf("n%d-c%d", c%3+1, c)
				for i := range opsEach {
					inv := rec.Invoke(process, fmt.Sprintf("n%d", c%3+1), "ledger-txn", map[string]int{"rows": 1}, fmt.Sprintf("%s-%d", process, i))
					t := []history.Type{history.Ok, history.Fail, history.Info}[i%3]
					rec.Complete(inv, t, nil, "")
				}
			})
		}
		wg.Go(func() { rec.Fault("kill", "n1", history.FaultEvent{Phase: history.FaultStart}) })
		wg.Wait()
		Expect(rec.Close()).To(Succeed())

		ops, err := history.Read(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(ops).To(HaveLen(clients*opsEach*2 + 1))
		pairs := history.Pairs(ops)
		Expect(pairs).To(HaveLen(clients * opsEach))
		counts := map[history.Type]int{}
		for _, p := range pairs {
			Expect(p.Completed).To(BeTrue())
			Expect(p.Completion.Index).To(BeNumerically(">", p.Invoke.Index))
			Expect(p.Completion.TxnID).To(Equal(p.Invoke.TxnID))
			counts[p.Type]++
		}
		Expect(counts[history.Ok]).To(Equal(16 * 67))
		Expect(history.Faults(ops)).To(HaveLen(1))
		Expect(rec.InFlight("n1")).To(Equal(0))
	})

	It("drops a truncated last line and reports it, keeping everything before", func() {
		var buf bytes.Buffer
		rec := history.NewRecorder(&buf)
		inv := rec.Invoke("n1-c0", "n1", "ledger-txn", nil, "t1")
		rec.Complete(inv, history.Ok, nil, "")
		rec.Invoke("n1-c0", "n1", "ledger-txn", nil, "t2")
		Expect(rec.Flush()).To(Succeed())
		whole := buf.String()
		cut := whole[:len(whole)-20] // the harness died mid-write

		res, err := history.ReadAll(strings.NewReader(cut))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Truncated).To(BeTrue())
		Expect(res.TruncatedLine).To(Equal(3))
		Expect(res.Ops).To(HaveLen(2))

		path := filepath.Join(GinkgoT().TempDir(), "history.jsonl")
		Expect(os.WriteFile(path, []byte(cut), 0o644)).To(Succeed())
		ops, err := history.Load(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(ops).To(HaveLen(2))
	})

	It("counts an invoke without completion as info", func() {
		var buf bytes.Buffer
		rec := history.NewRecorder(&buf)
		a := rec.Invoke("n1-c0", "n1", "ledger-txn", nil, "t1")
		rec.Invoke("n2-c0", "n2", "ledger-txn", nil, "t2")
		rec.Complete(a, history.Ok, nil, "")
		Expect(rec.Flush()).To(Succeed())
		ops, err := history.Read(&buf)
		Expect(err).NotTo(HaveOccurred())
		pairs := history.Pairs(ops)
		Expect(pairs).To(HaveLen(2))
		Expect(pairs[0].Type).To(Equal(history.Ok))
		Expect(pairs[1].Type).To(Equal(history.Info))
		Expect(pairs[1].Completed).To(BeFalse())
	})

	DescribeTable("rejects a malformed history",
		func(lines string, want string) {
			_, err := history.Read(strings.NewReader(lines))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a gap in the indexes",
			`{"index":0,"process":"p","type":"invoke","f":"x"}
{"index":2,"process":"p","type":"ok","f":"x"}
`, "gapless"),
		Entry("two completions of one invoke",
			`{"index":0,"process":"p","type":"invoke","f":"x"}
{"index":1,"process":"p","type":"ok","f":"x"}
{"index":2,"process":"p","type":"fail","f":"x"}
`, "without an open invoke"),
		Entry("a completion before its invoke",
			`{"index":0,"process":"p","type":"ok","f":"x"}
{"index":1,"process":"p","type":"invoke","f":"x"}
`, "without an open invoke"),
		Entry("a completion by another process",
			`{"index":0,"process":"p","type":"invoke","f":"x"}
{"index":1,"process":"q","type":"ok","f":"x"}
`, "without an open invoke"),
		Entry("a second invoke while one is open",
			`{"index":0,"process":"p","type":"invoke","f":"x"}
{"index":1,"process":"p","type":"invoke","f":"x"}
`, "still open"),
		Entry("an unknown type",
			`{"index":0,"process":"p","type":"maybe","f":"x"}
`, "unknown type"),
		Entry("a malformed line that is not the last",
			`{"index":0,"process":"p","type":"invoke","f":"x"}
{"index":1,"proc
{"index":2,"process":"p","type":"ok","f":"x"}
`, "line 2"),
	)
})
