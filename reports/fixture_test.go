package reports_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// t0 is the synthetic run's start.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// syntheticHistory is 10 s of ledger writes from n1..n3 (one op per
// client per 100 ms, 20 ms latency), n1 killed at 5 s with its last op
// left open, one n2 write failing at 6 s and one info at 7 s.
func syntheticHistory() []history.Op {
	var ops []history.Op
	add := func(at time.Duration, op history.Op) {
		op.Index = int64(len(ops))
		op.Time = at
		op.Wall = t0.Add(at)
		ops = append(ops, op)
	}
	kill := 5 * time.Second
	for at := time.Duration(0); at < 10*time.Second; at += 100 * time.Millisecond {
		if at == kill {
			add(at, history.Op{Process: history.NemesisProcess, Node: "n1", Type: history.Fault, F: "kill",
				Value: mustJSON(history.FaultEvent{Phase: history.FaultStart, Target: []string{"n1"}, Detail: map[string]any{"in_flight_at_kill": 1}})})
		}
		for _, node := range []string{"n1", "n2", "n3"} {
			if node == "n1" && at > kill {
				continue
			}
			txn := fmt.Sprintf("%s-%d", node, at/time.Millisecond)
			inv := history.Op{Process: node + "-c0", Node: node, Type: history.Invoke, F: "ledger-txn", TxnID: txn, Value: mustJSON(map[string]int{"rows": 3})}
			add(at, inv)
			if node == "n1" && at == kill {
				continue // in flight when killed: never completes
			}
			done := inv
			done.Type = history.Ok
			switch {
			case node == "n2" && at == 6*time.Second:
				done.Type, done.Error = history.Fail, "unique violation"
			case node == "n3" && at == 7*time.Second:
				done.Type, done.Error = history.Info, "connection lost during COMMIT"
			}
			add(at+20*time.Millisecond, done)
		}
	}
	return ops
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// writeHistory stores ops as JSON Lines at path.
func writeHistory(path string, ops []history.Op) {
	f, err := os.Create(path)
	Expect(err).NotTo(HaveOccurred())
	enc := json.NewEncoder(f)
	for _, op := range ops {
		Expect(enc.Encode(op)).To(Succeed())
	}
	Expect(f.Close()).To(Succeed())
}

// convergenceFailure is a convergence result with one differing ledger row
// (present on n2, absent on n3), laid out as verify's ConvergenceReport
// encodes it (kept as plain maps: reports reads details generically).
func convergenceFailure() verify.CheckResult {
	return verify.CheckResult{
		Name: "convergence", Verdict: verify.Fail, Summary: "1 of 2 tables differ on n2, n3: public.ledger: 1 rows differ",
		Details: map[string]any{
			"nodes": []any{"n2", "n3"}, "converged": false, "differing_rows": 1, "elapsed_ns": 1000,
			"classes": []any{map[string]any{
				"table": "public.ledger", "present_on": []any{"n2"}, "absent_on": []any{"n3"}, "origins": []any{"n1"},
				"first_commit": "2026-11-25T12:00:04.9Z", "last_commit": "2026-11-25T12:00:04.9Z", "rows": 1,
				"examples": []any{"(n1-4900,1)"}, "line": "public.ledger: 1 row of origin n1, committed 12:00:04.90, on n2 but not on n3",
			}},
			"tables": []any{
				map[string]any{"table": "public.bank_accounts", "status": "converged", "differing_rows": 0},
				map[string]any{
					"table": "public.ledger", "status": "differs", "differing_rows": 1,
					"row_counts": map[string]any{"n2": 131, "n3": 130},
					"rows": []any{map[string]any{
						"key":         map[string]any{"txn_id": "n1-4900", "seq": "1"},
						"key_columns": []any{"txn_id", "seq"},
						"key_text":    "(n1-4900,1)",
						"absent_on":   []any{"n3"},
						"versions": []any{
							map[string]any{"node": "n2", "present": true, "values": map[string]any{"txn_id": "n1-4900", "seq": "1", "origin": "n1", "payload": "p<script>x</script>"}, "commit_ts": "2026-11-25T12:00:04.9Z", "origin": "pgl_postgres_n1_sub_n2_n1"},
							map[string]any{"node": "n3", "present": false},
						},
					}},
				},
			},
		},
	}
}

// syntheticRun is a failing run of 3 nodes: n1 killed, n2 -> n3 recovery,
// convergence failing on one ledger row.
func syntheticRun() *record.Run {
	// T0 up before the history starts, T1 load from its start, T2 fault
	// at the kill (5 s), the rest after it.
	var phases []record.Phase
	at := t0.Add(-3 * time.Second)
	for i, d := range []time.Duration{3, 5, 1, 1, 2, 1, 1, 1} {
		end := at.Add(d * time.Second)
		phases = append(phases, record.Phase{Name: record.PhaseOrder[i], Start: at, End: end})
		at = end
	}
	return &record.Run{
		Scenario: "lagged-kill-recovery", Seed: 7, Flavor: "pglogical", ImageID: "spockchaos-node:pg17-abc123", RunID: "r-test",
		Versions:  record.Versions{PostgreSQL: map[string]string{"n1": "17.12", "n2": "17.12"}, Flavor: "pglogical 2.4.5"},
		Config:    map[string]any{"nodes": 3, "workload": "ledger"},
		Nodes:     []record.Node{{Name: "n1", ServerVersion: "17.12", ServerLog: []byte("LOG:  database system is ready\n")}, {Name: "n2", ServerVersion: "17.12", BeforeFault: &record.NodeState{CapturedAt: t0, Slots: []map[string]any{{"slot_name": "spockchaos_postgres_n2_n1"}}}}, {Name: "n3", AfterRecovery: &record.NodeState{CapturedAt: t0.Add(20 * time.Second), ServerVersion: "17.12"}}},
		Survivors: []string{"n2", "n3"}, Failed: []string{"n1"},
		Phases: phases,
		Faults: []record.Fault{{Kind: "kill", Node: "n1", InFlightAtKill: 1, Start: t0.Add(5 * time.Second)}},
		Recovery: &record.Recovery{Strategy: "reference", FailedNode: "n1", TransactionsRecovered: 42, RowsRecovered: 126,
			PerPair: []record.RecoveryPair{{Source: "n2", Target: "n3", Transactions: 42, Rows: 126, FromLSN: "0/1A2B", ToLSN: "0/2C3D", Duration: 1500 * time.Millisecond}}},
		Checkers: []verify.CheckResult{
			convergenceFailure(),
			{Name: "durability", Verdict: verify.Pass, Summary: "all 131 ok writes present on n2, n3"},
		},
		Observation: map[string]any{"survivors": []string{"n2", "n3"}},
	}
}

// writeSyntheticRun writes syntheticRun with syntheticHistory into a new
// run directory under parent and returns its path.
func writeSyntheticRun(parent string) (string, *record.Run) {
	run := syntheticRun()
	dir, err := record.NewRunDir(parent, run.Scenario, run.Seed, t0)
	Expect(err).NotTo(HaveOccurred())
	hist := filepath.Join(parent, "history-src.jsonl")
	writeHistory(hist, syntheticHistory())
	Expect(reports.Write(dir, run, hist)).To(Succeed())
	return dir, run
}
