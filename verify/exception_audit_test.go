package verify_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

var _ = Describe("exception-audit", func() {
	t0 := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	row := func(xid int64, table, op, msg string) verify.ExceptionRow {
		return verify.ExceptionRow{Node: "n1", Origin: "n2", Subscription: "sub_n1_n2", RemoteXID: xid,
			RemoteCommitTS: t0.Add(time.Duration(xid) * time.Millisecond), Table: table, Operation: op, Error: msg, LoggedAt: t0.Add(time.Minute)}
	}
	const missing = "logical replication did not find row to be updated in replication target relation (public.conflict_kv)"
	updateMissing := row(7, "conflict_kv", "UPDATE", missing)
	// Spock 6.0 under transdiscard, as SpockDiscardAfterTerm leaves it.
	notCaptured := row(9, "ledger", "INSERT", "transdiscard: tuple discarded due to exception (root cause not captured)")
	conflictRun := map[string]verify.Contention{"conflict_kv": {Writers: 3, RowsComeAndGo: true}, "hotkey": {Writers: 3}}
	capture := func(rows ...verify.ExceptionRow) *verify.ExceptionCapture {
		return &verify.ExceptionCapture{Nodes: []string{"n1", "n2"}, Exceptions: rows}
	}

	type entry struct {
		capture   *verify.ExceptionCapture
		contended map[string]verify.Contention
		verdict   verify.Verdict
		says      []string
	}
	table := map[string]entry{
		"control: an empty exception_log":                  {capture(), nil, verify.Pass, []string{"0 exception_log rows on n1, n2, every one explained"}},
		"update_missing on a table whose rows come and go": {capture(updateMissing), conflictRun, verify.Pass, []string{"1 exception_log row"}},
		"its transaction's collateral rows": {capture(updateMissing,
			row(7, "conflict_kv", "INSERT", "transdiscard: tuple discarded due to exception at command_counter 1"),
			row(7, "", "SUB_DISABLE", "disabling subscription sub_n1_n2 due to exception(s) - skip_lsn = 0/1A2B3C"),
			row(7, "conflict_kv", "INSERT", "unavailable")), conflictRun, verify.Pass, nil},
		"collateral quoting an explained error": {capture(row(7, "conflict_kv", "UPDATE", "discard: tuple discarded due to exception: "+missing)), conflictRun, verify.Pass, nil},
		"planted: a discard with no root cause": {capture(updateMissing, notCaptured), conflictRun, verify.Fail, []string{
			"1 exception_log row and 0 resolution groups not explained",
			`n1: sub_n1_n2 (origin n2) remote xid 9 committed 05:00:00.009000, INSERT ledger: "transdiscard: tuple discarded due to exception (root cause not captured)"`}},
		"planted: update_missing where no row comes or goes": {capture(row(7, "hotkey", "UPDATE", missing)), conflictRun, verify.Fail, []string{"UPDATE hotkey"}},
		"planted: update_missing with no conflict workload":  {capture(updateMissing), nil, verify.Fail, []string{"remote xid 7"}},
		"planted: collateral of a transaction with no explained error": {capture(
			row(8, "conflict_kv", "INSERT", "transdiscard: tuple discarded due to exception at command_counter 2")), conflictRun, verify.Fail, []string{"remote xid 8"}},
		"planted: another error in an explained transaction fails all its rows": {capture(updateMissing,
			row(7, "conflict_kv", "INSERT", "[SQLSTATE 23505] duplicate key value violates unique constraint")), conflictRun, verify.Fail, []string{"2 exception_log rows", "SQLSTATE 23505"}},
		"saved resolutions on a contended table": {&verify.ExceptionCapture{Nodes: []string{"n1"}, ResolutionsSaved: []string{"n1"},
			Resolutions: []verify.ResolutionGroup{{Node: "n1", Table: "public.hotkey", ConflictType: "update_origin_differs", Resolution: "apply_remote", Origin: "n2", Rows: 40, First: t0, Last: t0}}},
			conflictRun, verify.Pass, []string{"40 saved resolutions (n1)"}},
		"planted: a saved resolution on the ledger": {&verify.ExceptionCapture{Nodes: []string{"n1"}, ResolutionsSaved: []string{"n1"},
			Resolutions: []verify.ResolutionGroup{{Node: "n1", Table: "public.ledger", ConflictType: "insert_exists", Resolution: "keep_local", Origin: "n3", Rows: 2, First: t0, Last: t0}}},
			conflictRun, verify.Fail, []string{"n1: 2 insert_exists (keep_local) on public.ledger from n3"}},
		"more rows than were read": {&verify.ExceptionCapture{Nodes: []string{"n1"}, Truncated: []string{"n1"}}, nil, verify.Unknown, []string{"read only the first"}},
		"pglogical: not applicable, never a pass": {&verify.ExceptionCapture{NotApplicable: "pglogical has no exception_log"}, nil, verify.Skipped,
			[]string{"not applicable: pglogical has no exception_log"}},
		"nothing read": {nil, nil, verify.Unknown, nil},
	}
	for name, e := range table {
		It(name, func() {
			got := verify.JudgeExceptionAudit(e.capture, e.contended)
			Expect(got.Name).To(Equal("exception-audit"))
			Expect(got.Verdict).To(Equal(e.verdict), got.Summary)
			for _, s := range e.says {
				Expect(got.Summary).To(ContainSubstring(s))
			}
		})
	}

	Describe("ContendedTables", func() {
		op := func(node, f string, typ history.Type) history.Op {
			return history.Op{Type: typ, Node: node, F: f, Value: json.RawMessage(`{}`)}
		}
		It("is the tables written from several nodes, rows coming and going with inserts or deletes", func() {
			got := verify.ContendedTables([]history.Op{
				op("n1", "conflict-update", history.Ok), op("n2", "conflict-delete", history.Ok),
				op("n1", "hot-update", history.Ok), op("n2", "hot-update", history.Ok), op("n3", "hot-update", history.Fail),
				op("n1", "ycsb-update", history.Ok), op("n1", "ycsb-insert", history.Ok), // one node only
				op("n1", "ledger-txn", history.Ok), op("n2", "ledger-txn", history.Ok),
			})
			Expect(got).To(Equal(map[string]verify.Contention{
				"conflict_kv": {Writers: 2, RowsComeAndGo: true},
				"hotkey":      {Writers: 2},
			}))
		})
	})
})
