package verify

import (
	"strings"

	"github.com/spockchaos/spockchaos/workload/history"
)

// The workload tables written from several nodes on the same keys, by op
// (workload package: conflict, hotkey, ycsb, toast). A ledger, bank or large-txn
// op writes keys of its own node only: a conflict on those tables is
// never the workload's doing.
const (
	conflictTable = "conflict_kv"
	hotkeyTable   = "hotkey"
	ycsbTable     = "usertable"
	toastTable    = "toast_wide"
)

// ContendedTables is, from a history, every table the workload wrote from
// several nodes, and whether its rows come and go (inserts or deletes,
// which an update from another node can overtake). Only ok completions
// count: a write that failed changed nothing.
func ContendedTables(ops []history.Op) map[string]Contention {
	writers := map[string]map[string]bool{}
	comeAndGo := map[string]bool{}
	for _, op := range ops {
		if op.Type != history.Ok {
			continue
		}
		table, inserts := contendedWrite(op.F)
		if table == "" {
			continue
		}
		if writers[table] == nil {
			writers[table] = map[string]bool{}
		}
		writers[table][op.Node] = true
		comeAndGo[table] = comeAndGo[table] || inserts
	}
	out := map[string]Contention{}
	for table, nodes := range writers {
		if len(nodes) >= 2 {
			out[table] = Contention{Writers: len(nodes), RowsComeAndGo: comeAndGo[table]}
		}
	}
	return out
}

// contendedWrite is the table an op writes on keys other nodes write too,
// and whether it inserts or deletes rows; "" for any other op.
func contendedWrite(f string) (table string, comeAndGo bool) {
	switch {
	case f == "conflict-insert" || f == "conflict-delete":
		return conflictTable, true
	case f == "conflict-update":
		return conflictTable, false
	case f == "hot-update":
		return hotkeyTable, false
	case f == "toast-touch" || f == "toast-rewrite":
		return toastTable, false
	case f == "ycsb-insert" || f == "ycsb-delete":
		return ycsbTable, true
	case strings.HasPrefix(f, "ycsb-") && f != "ycsb-read" && f != "ycsb-scan":
		return ycsbTable, false
	}
	return "", false
}
