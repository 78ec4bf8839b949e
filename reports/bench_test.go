package reports_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/workload/history"
)

// BenchmarkRenderLargeHistory renders every file of a run whose history
// holds 1,000,000 records (10 minutes, 3 nodes, about 830 ops/s each) and
// reports the size of report.html.
func BenchmarkRenderLargeHistory(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, record.HistoryFile))
	if err != nil {
		b.Fatal(err)
	}
	// The Recorder stamps real time; records are written directly instead.
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const records = 1_000_000
	step := 10 * time.Minute / records
	for i := 0; i < records; i += 2 {
		node := fmt.Sprintf("n%d", i/2%3+1)
		at := time.Duration(i) * step
		inv := history.Op{Index: int64(i), Time: at, Wall: start.Add(at), Process: node + "-c0", Node: node, Type: history.Invoke, F: "ledger-txn", TxnID: fmt.Sprint(i)}
		ok := inv
		ok.Index, ok.Time, ok.Wall, ok.Type = int64(i+1), at+step, start.Add(at+step), history.Ok
		if err := enc.Encode(inv); err != nil {
			b.Fatal(err)
		}
		if err := enc.Encode(ok); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	run := &record.Run{Scenario: "bench", Seed: 1, Phases: []record.Phase{{Name: record.PhaseLoad, Start: start, End: start.Add(10 * time.Minute)}}}
	b.ResetTimer()
	for b.Loop() {
		if err := reports.Render(dir, run); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st, err := os.Stat(filepath.Join(dir, reports.HTMLFile))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size())/1e6, "MB-html")
}
