package verify

import (
	"fmt"
	"strings"
	"time"
)

// JudgeExceptionAudit decides, from what Spock recorded on the survivors
// (ExceptionCapture: every spock.exception_log row, and spock.resolutions
// counted by table, type, resolution and origin where
// spock.save_resolutions is on) and the tables the run's workload writes
// from several nodes (ContendedTables: conflict_kv, hotkey, usertable,
// toast_wide when at least two nodes wrote them; "rows come and go" with
// inserts or deletes), that every row is a conflict the workload provoked on purpose.
// The rule, from Spock's source (5.0.7 to 6.0): saved resolutions are
// explained on a contended table; an exception_log row's error is
// explained only when it is update_missing ("did not find row to be
// updated", the one conflict Spock raises as an error) on a contended
// table whose rows come and go; the other rows of a transaction (same
// subscriber, origin, remote xid and commit time) are collateral and
// share its fate; "(root cause not captured)" never explains. A failure
// names the subscriber, subscription, origin, remote xid, commit time,
// table and message. exception_log has no LSN column: the LSN is in the
// server log's discard/disable lines (see the divergence evidence). More
// than ExceptionRowsRead rows on a node make it unknown; pglogical
// (NotApplicable) makes it skipped, never a pass.

// ExceptionAuditCheckName is the exception-audit checker's name.
const ExceptionAuditCheckName = "exception-audit"

// ExceptionRow is one row of spock.exception_log on a subscriber: Spock
// writes one for every change of a remote transaction whose apply failed
// (the failing change with its error, the others as collateral) and one
// when it disables a subscription in sub_disable mode.
type ExceptionRow struct {
	Node string `json:"node"` // the subscriber that logged it
	// Origin is the origin node's name (remote_origin is its Spock
	// node_id; the raw id when no node has it), Subscription the
	// subscriber's subscriptions from it.
	Origin         string    `json:"origin"`
	Subscription   string    `json:"subscription,omitempty"`
	RemoteXID      int64     `json:"remote_xid"`
	RemoteCommitTS time.Time `json:"remote_commit_ts"`
	Table          string    `json:"table,omitempty"` // table_name ("" for DDL/SQL and SUB_DISABLE rows)
	Operation      string    `json:"operation,omitempty"`
	Error          string    `json:"error_message"`
	LoggedAt       time.Time `json:"retry_errored_at"`
}

// ResolutionGroup is the rows of spock.resolutions (written when
// spock.save_resolutions is on) of one node, table, conflict type,
// resolution and origin: a hot-key run resolves thousands of conflicts,
// so they are stored counted, with their time span.
type ResolutionGroup struct {
	Node         string    `json:"node"`
	Table        string    `json:"table"` // relname, schema-qualified as Spock stores it
	ConflictType string    `json:"conflict_type"`
	Resolution   string    `json:"resolution"`
	Origin       string    `json:"origin"`
	Rows         int64     `json:"rows"`
	First        time.Time `json:"first"`
	Last         time.Time `json:"last"`
}

// ExceptionCapture is what the exception-audit checker read from the
// survivors at the end (stored in observation.json, so `spockchaos check`
// re-judges it).
type ExceptionCapture struct {
	// NotApplicable says why the audit does not apply to this run (e.g.
	// pglogical has no exception_log); empty when it does.
	NotApplicable string `json:"not_applicable,omitempty"`
	// Nodes are the survivors read.
	Nodes      []string       `json:"nodes,omitempty"`
	Exceptions []ExceptionRow `json:"exceptions,omitempty"`
	// Truncated names the nodes whose exception_log held more rows than
	// were read (ExceptionRowsRead): the audit cannot pass then.
	Truncated []string `json:"truncated,omitempty"`
	// ResolutionsSaved names the nodes with spock.save_resolutions on;
	// Resolutions are their spock.resolutions rows.
	ResolutionsSaved []string          `json:"resolutions_saved,omitempty"`
	Resolutions      []ResolutionGroup `json:"resolutions,omitempty"`
}

// ExceptionRowsRead bounds the exception_log rows read per node.
const ExceptionRowsRead = 5000

// Contention is how a run's workload contends one table on purpose.
type Contention struct {
	// Writers is how many nodes wrote the table.
	Writers int `json:"writers"`
	// RowsComeAndGo: the workload inserts or deletes rows that other
	// nodes update, so an update can reach a node before the row it
	// updates (or after its delete).
	RowsComeAndGo bool `json:"rows_come_and_go"`
}

// updateMissing is the error Spock raises when a remote UPDATE finds no
// row (spock_apply_heap_update, src/spock_apply_heap.c, the same text in
// 5.0.7, 5.0.11 and 6.0): SPOCK_CT_UPDATE_MISSING goes to exception_log,
// not to resolutions.
const updateMissing = "did not find row to be updated"

// JudgeExceptionAudit decides the exception-audit checker: every row Spock
// wrote to spock.exception_log, and every conflict it saved in
// spock.resolutions, must be explained by a conflict the workload provokes
// on purpose (contended: the tables written from several nodes on the same
// keys, from ContendedTables). The rule, from Spock's source:
//
//   - insert_exists, update_exists, update_origin_differs,
//     delete_origin_differs, delete_exists and delete_missing are resolved
//     by last-update-wins (or skipped) without an error: they appear only
//     in spock.resolutions, explained on a contended table.
//   - update_missing raises an ERROR ("logical replication did not find
//     row to be updated ...") and the transaction goes to exception_log
//     under every exception_behaviour: explained on a contended table
//     whose rows come and go (inserts or deletes from several nodes).
//   - the other rows of that transaction are collateral ("<mode>: tuple
//     discarded due to exception at command_counter N", "... discarded due
//     to exception: <the error>", "unavailable" before 5.0.11, and the
//     SUB_DISABLE row): explained when their transaction (subscriber,
//     origin, remote xid and commit time) has an explained error and none
//     that is not; "(root cause not captured)" names no error at all and
//     is never explained (a discard with no failure: see
//     scenarios.SpockDiscardAfterTerm).
//
// Anything else fails, naming the rows. A capture that does not apply is
// skipped with its reason, never a pass.
func JudgeExceptionAudit(capture *ExceptionCapture, contended map[string]Contention) CheckResult {
	c := CheckResult{Name: ExceptionAuditCheckName}
	switch {
	case capture == nil:
		c.Verdict, c.Summary = Unknown, "nothing was read from the survivors"
		return c
	case capture.NotApplicable != "":
		c.Verdict, c.Summary = Skipped, "not applicable: "+capture.NotApplicable
		return c
	}
	badRows := unexplainedExceptions(capture.Exceptions, contended)
	badRes := unexplainedResolutions(capture.Resolutions, contended)
	c.Details = map[string]any{"contended": contended, "unexplained_exceptions": badRows, "unexplained_resolutions": badRes}
	var failed []string
	for _, r := range firstN(badRows, 5) {
		failed = append(failed, r.describe())
	}
	for _, g := range firstN(badRes, 5) {
		failed = append(failed, g.describe())
	}
	seen := fmt.Sprintf("%d exception_log %s", len(capture.Exceptions), Plural(len(capture.Exceptions), "row", "rows"))
	if len(capture.ResolutionsSaved) > 0 {
		seen += fmt.Sprintf(" and %d saved resolutions (%s)", resolutionRows(capture.Resolutions), strings.Join(capture.ResolutionsSaved, ", "))
	}
	seen += " on " + strings.Join(capture.Nodes, ", ")
	switch {
	case len(failed) > 0:
		c.Verdict = Fail
		c.Summary = fmt.Sprintf("%d exception_log %s and %d resolution %s not explained by the workload's conflicts (of %s): %s",
			len(badRows), Plural(len(badRows), "row", "rows"), len(badRes), Plural(len(badRes), "group", "groups"), seen, strings.Join(failed, "; "))
	case len(capture.Truncated) > 0:
		c.Verdict = Unknown
		c.Summary = fmt.Sprintf("read only the first %d exception_log rows of %s: the rest is not judged (%s)", ExceptionRowsRead, strings.Join(capture.Truncated, ", "), seen)
	default:
		c.Verdict = Pass
		c.Summary = seen + ", every one explained by the workload's conflicts"
	}
	return c
}

func firstN[T any](s []T, n int) []T { return s[:min(n, len(s))] }

func resolutionRows(gs []ResolutionGroup) int64 {
	var n int64
	for _, g := range gs {
		n += g.Rows
	}
	return n
}

// unexplainedExceptions is every row of a transaction that is not
// explained (see JudgeExceptionAudit), in the capture's order.
func unexplainedExceptions(rows []ExceptionRow, contended map[string]Contention) []ExceptionRow {
	type txnState struct{ explained, unexplained bool }
	txns := map[string]*txnState{}
	for _, r := range rows {
		t := txns[r.txnKey()]
		if t == nil {
			t = &txnState{}
			txns[r.txnKey()] = t
		}
		switch exceptionCause(r, contended) {
		case causeExplained:
			t.explained = true
		case causeUnexplained:
			t.unexplained = true
		}
	}
	var out []ExceptionRow
	for _, r := range rows {
		if t := txns[r.txnKey()]; !t.explained || t.unexplained {
			out = append(out, r)
		}
	}
	return out
}

func (r ExceptionRow) txnKey() string {
	return fmt.Sprintf("%s|%s|%d|%s", r.Node, r.Origin, r.RemoteXID, r.RemoteCommitTS.UTC().Format(time.RFC3339Nano))
}

// Causes of an exception_log row.
const (
	causeCollateral  = iota // names no error of its own: its transaction's decides
	causeExplained          // an error the workload provokes on purpose
	causeUnexplained        // any other error, or a discard with no cause
)

// exceptionCause classifies one row by its error message.
func exceptionCause(r ExceptionRow, contended map[string]Contention) int {
	msg := r.Error
	switch {
	case strings.Contains(msg, "root cause not captured"):
		return causeUnexplained
	case msg == "unavailable", strings.Contains(msg, "discarded due to exception at command_counter"),
		r.Operation == "SUB_DISABLE" && strings.Contains(msg, "disabling subscription"):
		return causeCollateral
	}
	if _, rest, ok := strings.Cut(msg, "discarded due to exception: "); ok {
		msg = rest // collateral that quotes the transaction's error
	}
	if strings.Contains(msg, updateMissing) && contended[bareTable(r.Table)].RowsComeAndGo {
		return causeExplained
	}
	return causeUnexplained
}

// unexplainedResolutions are the saved conflicts on tables the workload
// does not contend.
func unexplainedResolutions(gs []ResolutionGroup, contended map[string]Contention) []ResolutionGroup {
	var out []ResolutionGroup
	for _, g := range gs {
		if contended[bareTable(g.Table)].Writers < 2 {
			out = append(out, g)
		}
	}
	return out
}

// bareTable is a table name without its schema or quotes.
func bareTable(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.Trim(name, `"`)
}

func (r ExceptionRow) describe() string {
	sub := r.Subscription
	if sub == "" {
		sub = "no subscription from " + r.Origin
	}
	table := r.Table
	if table == "" {
		table = r.Operation
	} else if r.Operation != "" {
		table = r.Operation + " " + table
	}
	return fmt.Sprintf("%s: %s (origin %s) remote xid %d committed %s, %s: %q", r.Node, sub, r.Origin, r.RemoteXID,
		r.RemoteCommitTS.UTC().Format("15:04:05.000000"), table, r.Error)
}

func (g ResolutionGroup) describe() string {
	return fmt.Sprintf("%s: %d %s (%s) on %s from %s, %s-%s, a table the workload does not write from several nodes",
		g.Node, g.Rows, g.ConflictType, g.Resolution, g.Table, g.Origin, stamp(g.First), stamp(g.Last))
}
