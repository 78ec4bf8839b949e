package scenarios

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// discard is one discarded transaction a server log names: its discard
// line and what the CONTEXT line under it says of the transaction.
type discard struct {
	line   string
	xid    int64 // the remote transaction's xid (0: not read)
	commit time.Time
	// rows are the transaction's row changes: its COMMIT's action number
	// less BEGIN and COMMIT (handle_begin counts 1, every insert, update,
	// delete and truncate and the COMMIT one more).
	rows int
}

// Explain says whether the findings account for a failed run: every
// failing checker is explained, or none is. Convergence: each divergence
// class is rows absent on some nodes (no differing columns), and each
// node lacking them logged, in lines one of the findings owns, the
// discard of the transactions committed at the class's first and last
// commit time, and of transactions committed in between with at least as
// many row changes as the class has rows; or (a finding with
// AppliedAgainAfterCrash) delta_counter rows differing in n only, every
// node off the others' value one that applied again after its crash,
// with delta-counter's "too many" for that key; or (a finding with
// CommitTimeTies) uniq_kv rows that are exactly the keys of
// unique-conflict's ties. Unique-conflict: every value it names is a tie
// of commit times on every node, and no row lacks an acknowledged insert
// (finding_tie.go). Double-apply: every node
// with duplicates shows a crash recovery between each duplicate's
// commits (finding_crash.go). Delta-counter: only "too many" on such
// nodes. Durability: only whole transactions lost on nodes whose
// convergence rows the discards explained. Exception-audit: only rows of
// transactions those nodes logged the discard of (remote xid and commit
// time). Any other failing checker, or any checker that could not judge
// (unknown), and nothing is explained. It returns why not,
// or what it matched. A FAIL alone never explains anything.
func Explain(findings []Finding, dir string, checkers []verify.CheckResult) (bool, string) {
	if i := slices.IndexFunc(checkers, func(c verify.CheckResult) bool { return c.Verdict == verify.Unknown }); i >= 0 {
		return false, fmt.Sprintf("%s could not judge (%s): a finding explains no run with a checker that could not judge", checkers[i].Name, checkers[i].Summary)
	}
	failed := failedInExplainOrder(checkers)
	if len(failed) == 0 {
		return false, "no checker failed: nothing for a finding to explain"
	}
	e := &explainer{findings: findings, dir: dir, logs: map[string][]byte{}, discards: map[string][]discard{}, discarded: map[string]bool{},
		auditOnly: len(failed) == 1 && failed[0].Name == CheckExceptionAudit, appliedRows: appliedRowFinding(findings)}
	var matched []string
	for _, c := range failed {
		ok, what := e.explain(c)
		if !ok {
			return false, what
		}
		matched = append(matched, what)
	}
	return true, strings.Join(matched, "; ")
}

// explainOrder puts the checkers whose explanation others rest on first:
// double-apply names the nodes that applied again, delta-counter their
// keys, convergence the nodes that discarded.
var explainOrder = []string{CheckDoubleApply, verify.DeltaCheckName, verify.UniqueCheckName, CheckConvergence}

func failedInExplainOrder(checkers []verify.CheckResult) []verify.CheckResult {
	var out []verify.CheckResult
	for _, c := range checkers {
		if c.Verdict == verify.Fail {
			out = append(out, c)
		}
	}
	rank := func(c verify.CheckResult) int {
		if i := slices.Index(explainOrder, c.Name); i >= 0 {
			return i
		}
		return len(explainOrder)
	}
	slices.SortStableFunc(out, func(a, b verify.CheckResult) int { return rank(a) - rank(b) })
	return out
}

// explainer holds what one Explain has read and matched so far.
type explainer struct {
	findings []Finding
	dir      string
	logs     map[string][]byte
	discards map[string][]discard
	// doubled are the nodes whose duplicates a crash recovery explains,
	// tooMany their counters delta-counter found too high, discarded the
	// nodes whose missing rows the discards explain.
	doubled   map[string]bool
	tooMany   map[string]map[string]bool
	discarded map[string]bool
	// auditOnly: exception-audit is the only failing checker (the rows
	// and acknowledged writes are all there); appliedRows is the finding
	// with AppliedRowLogs, if any.
	auditOnly   bool
	appliedRows *Finding
	// tieKeys and tieTimes are the keys and commit times of the
	// unique-conflict ties explained, tieRows the uniq_kv rows of the
	// convergence classes matched to them so far (finding_tie.go).
	tieKeys  map[string]bool
	tieTimes map[time.Time]bool
	tieRows  int64
}

func (e *explainer) explain(c verify.CheckResult) (bool, string) {
	switch c.Name {
	case CheckDoubleApply:
		return e.doubleApply(c)
	case verify.DeltaCheckName:
		return e.deltaCounter(c)
	case CheckConvergence:
		return e.convergence(c)
	case verify.DurabilityCheckName:
		return e.durability(c)
	case CheckExceptionAudit:
		return e.exceptionAudit(c)
	case verify.UniqueCheckName:
		return e.uniqueTies(c)
	}
	return false, fmt.Sprintf("%s failed (%s): no finding explains it", c.Name, c.Summary)
}

// crashFinding is the first finding with AppliedAgainAfterCrash ("" none).
func (e *explainer) crashFinding() string {
	for _, f := range e.findings {
		if f.AppliedAgainAfterCrash {
			return f.Name
		}
	}
	return ""
}

func (e *explainer) serverLog(node string) ([]byte, error) {
	if b, ok := e.logs[node]; ok {
		return b, nil
	}
	b, err := os.ReadFile(filepath.Join(record.NodeDir(e.dir, node), "server.log"))
	if err != nil {
		return nil, fmt.Errorf("%s: read the server log: %w", node, err)
	}
	e.logs[node] = b
	return b, nil
}

func (e *explainer) doubleApply(c verify.CheckResult) (bool, string) {
	name := e.crashFinding()
	if name == "" {
		return false, "double-apply failed (" + c.Summary + "): no finding explains a transaction applied twice"
	}
	var capture verify.WALCapture
	if !detailsAs(c, &capture) {
		return false, "double-apply failed with no WAL capture to match"
	}
	e.doubled = map[string]bool{}
	var matched []string
	for _, n := range capture.Nodes {
		if n.Duplicated == 0 {
			continue
		}
		log, err := e.serverLog(n.Node)
		if err != nil {
			return false, err.Error()
		}
		ok, what := explainDuplicates(n, crashRecoveries(log))
		if !ok {
			return false, what
		}
		e.doubled[n.Node] = true
		matched = append(matched, what)
	}
	if len(matched) == 0 {
		return false, "double-apply failed with no duplicate listed"
	}
	return true, fmt.Sprintf("double-apply by %s: %s", name, strings.Join(matched, "; "))
}

func (e *explainer) deltaCounter(c verify.CheckResult) (bool, string) {
	if len(e.doubled) == 0 {
		return false, "delta-counter failed (" + c.Summary + "): no node applied transactions again after a crash recovery"
	}
	var lines []string
	if !detailsAs(c, &lines) {
		return false, "delta-counter failed with no violations listed"
	}
	keys, why := explainTooMany(lines, e.doubled)
	if keys == nil {
		return false, why
	}
	e.tooMany = keys
	return true, fmt.Sprintf("delta-counter: %d counters too high, all on nodes that applied again after their crash", len(lines))
}

func (e *explainer) convergence(c verify.CheckResult) (bool, string) {
	classes := reports.DivergenceOf([]verify.CheckResult{c})
	if len(classes) == 0 {
		return false, "the failed convergence check has no divergence class"
	}
	var matched []string
	for _, cl := range classes {
		var ok bool
		var what string
		switch {
		case cl.Table == uniqTable && len(e.tieKeys) > 0 && len(cl.AbsentOn) > 0 && len(cl.DifferingColumns) == 0:
			ok, what = e.tieClass(cl)
		case len(cl.AbsentOn) > 0 && len(cl.DifferingColumns) == 0:
			ok, what = e.absentClass(cl)
		case cl.Table == deltaTable && len(cl.AbsentOn) == 0 && slices.Equal(cl.DifferingColumns, []string{deltaColumn}) && len(e.tooMany) > 0:
			ok, what = e.deltaClass(c, cl)
		default:
			return false, "not rows missing on some node, nor counters doubled after a crash: " + cl.Line
		}
		if !ok {
			return false, what
		}
		if !slices.Contains(matched, what) {
			matched = append(matched, what)
		}
	}
	return true, strings.Join(matched, "; ")
}

// absentClass matches a class of missing rows to its nodes' discards.
func (e *explainer) absentClass(c verify.DivergenceClass) (bool, string) {
	if findingNames(e.findings) == "" {
		return false, "rows missing, and no finding explains missing rows: " + c.Line
	}
	if c.FirstCommit == nil || c.LastCommit == nil {
		return false, "no commit time to match: " + c.Line
	}
	var matched []string
	for _, node := range c.AbsentOn {
		ds, err := e.discardsOf(node)
		if err != nil {
			return false, err.Error()
		}
		ok, what := explainClass(e.findings, c, node, ds)
		if !ok {
			return false, what
		}
		e.discarded[node] = true
		matched = append(matched, what)
	}
	return true, strings.Join(matched, "; ")
}

// deltaClass matches a class of delta_counter rows differing in n to the
// nodes that applied again (every row of the table, explainDeltaRows).
func (e *explainer) deltaClass(c verify.CheckResult, cl verify.DivergenceClass) (bool, string) {
	var rep verify.ConvergenceReport
	if !detailsAs(c, &rep) {
		return false, "no convergence rows to match: " + cl.Line
	}
	i := slices.IndexFunc(rep.Tables, func(t verify.TableResult) bool { return t.Table == cl.Table })
	if i < 0 {
		return false, "no rows of " + cl.Table + " to match: " + cl.Line
	}
	if ok, why := explainDeltaRows(rep.Tables[i], e.doubled, e.tooMany); !ok {
		return false, why
	}
	return true, cl.Line + ": counters doubled on " + strings.Join(slices.Sorted(maps.Keys(e.tooMany)), ", ")
}

func (e *explainer) discardsOf(node string) ([]discard, error) {
	if ds, ok := e.discards[node]; ok {
		return ds, nil
	}
	log, err := e.serverLog(node)
	if err != nil {
		return nil, err
	}
	ds, err := discardsIn(log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", node, err)
	}
	e.discards[node] = ds
	return ds, nil
}

// durability is explained when every lost transaction (acknowledged via
// a survivor, or split among the survivors when acknowledged via a node
// that failed or left) is wholly missing on nodes whose missing rows the
// discards explained, and whole on the others.
func (e *explainer) durability(c verify.CheckResult) (bool, string) {
	type txn struct {
		TxnID  string         `json:"txn_id"`
		Rows   int            `json:"rows"`
		Counts map[string]int `json:"counts"`
	}
	var d struct {
		Lost      []txn `json:"lost_via_survivors"`
		LostCount int   `json:"lost_count"`
		ViaFailed struct {
			Split     int   `json:"split"`
			SplitTxns []txn `json:"split_txns"`
		} `json:"acknowledged_via_failed"`
	}
	if !detailsAs(c, &d) || d.LostCount != len(d.Lost) || d.ViaFailed.Split != len(d.ViaFailed.SplitTxns) || d.LostCount+d.ViaFailed.Split == 0 {
		return false, "durability failed (" + c.Summary + "): not only lost transactions, each listed"
	}
	for _, t := range append(d.Lost, d.ViaFailed.SplitTxns...) {
		for node, n := range t.Counts {
			if n == t.Rows {
				continue
			}
			if n != 0 || !e.discarded[node] {
				return false, fmt.Sprintf("durability: %s has %d of the %d rows of %s, not a discard the findings explain", node, n, t.Rows, t.TxnID)
			}
		}
	}
	return true, fmt.Sprintf("durability: the %d lost transactions are the discarded ones", d.LostCount+d.ViaFailed.Split)
}

// exceptionAudit is explained when every unexplained exception_log row
// belongs to a transaction its node logged the discard of.
func (e *explainer) exceptionAudit(c verify.CheckResult) (bool, string) {
	var d struct {
		Rows        []verify.ExceptionRow `json:"unexplained_exceptions"`
		Resolutions []json.RawMessage     `json:"unexplained_resolutions"`
	}
	if !detailsAs(c, &d) || len(d.Rows) == 0 || len(d.Resolutions) > 0 {
		return false, "exception-audit failed (" + c.Summary + "): not only exception_log rows to match"
	}
	applied := 0
	replayed := e.replayedTxns(d.Rows)
	for _, r := range d.Rows {
		if replayed[replayKey{r.Node, r.RemoteXID}] && (e.appliedRowLogged(r) || e.initialErrorTaken(r.Error)) {
			applied++
			continue
		}
		ds, err := e.discardsOf(r.Node)
		if err != nil {
			return false, err.Error()
		}
		if !slices.ContainsFunc(ds, func(x discard) bool {
			return x.xid == r.RemoteXID && x.commit.Equal(r.RemoteCommitTS) && findingTakes(e.findings, x.line)
		}) {
			return false, fmt.Sprintf("exception-audit: %s never logged a discard (or a disable over it) the findings own of remote xid %d committed at %s", r.Node, r.RemoteXID, pgTimestamp(r.RemoteCommitTS))
		}
	}
	if applied > 0 {
		name := e.appliedRows.Name
		if applied == len(d.Rows) {
			return true, fmt.Sprintf("exception-audit: its %d rows, logged as discarded, are on every survivor (%s)", applied, name)
		}
		return true, fmt.Sprintf("exception-audit: %d of its %d rows, logged as discarded, are on every survivor (%s), the others are of the discarded transactions",
			applied, len(d.Rows), name)
	}
	return true, fmt.Sprintf("exception-audit: its %d rows are of the discarded (or held) transactions", len(d.Rows))
}

// appliedRowLogged: r's message is one the appliedRows finding's
// subscriber writes for a row it applied (AppliedRowLogs), and nothing
// else failed: convergence and history passed, so the row is on every
// survivor.
func (e *explainer) appliedRowLogged(r verify.ExceptionRow) bool {
	return e.auditOnly && e.appliedRows != nil &&
		slices.ContainsFunc(e.appliedRows.AppliedRowLogs, func(p string) bool { return strings.HasPrefix(r.Error, p) })
}

// replayKey is a remote transaction on one subscriber.
type replayKey struct {
	node string
	xid  int64
}

// replayedTxns are the transactions of rows with the applied-row wording
// (appliedRowLogged): replayed row by row, every row applied.
func (e *explainer) replayedTxns(rows []verify.ExceptionRow) map[replayKey]bool {
	out := map[replayKey]bool{}
	for _, r := range rows {
		if e.appliedRowLogged(r) {
			out[replayKey{r.Node, r.RemoteXID}] = true
		}
	}
	return out
}

// initialErrorTaken: msg is an initial error one of the findings takes
// (InitialErrors): the message the replay gives the row at the action
// that failed first.
func (e *explainer) initialErrorTaken(msg string) bool {
	return slices.ContainsFunc(e.findings, func(f Finding) bool { return len(f.InitialErrors) > 0 && containsAny(msg, f.InitialErrors) })
}

// appliedRowFinding is the first of findings with AppliedRowLogs (nil:
// none).
func appliedRowFinding(findings []Finding) *Finding {
	if i := slices.IndexFunc(findings, func(f Finding) bool { return len(f.AppliedRowLogs) > 0 }); i >= 0 {
		return &findings[i]
	}
	return nil
}

// findingTakes: line is a discard, or a disable over a transaction, that
// one of findings owns.
func findingTakes(findings []Finding, line string) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Owns(line) || f.Holds(line) })
}

// detailsAs decodes a checker's details (a value in a live run, JSON
// once stored) into v.
func detailsAs(c verify.CheckResult, v any) bool {
	if c.Details == nil {
		return false
	}
	b, err := json.Marshal(c.Details)
	return err == nil && json.Unmarshal(b, v) == nil
}

// explainClass matches one class's rows missing on node to the discards
// of node's log that the findings own, row for row (see Explain).
func explainClass(findings []Finding, c verify.DivergenceClass, node string, ds []discard) (bool, string) {
	owned := func(d discard) string {
		for _, f := range findings {
			if f.Owns(d.line) {
				return f.Name
			}
		}
		return ""
	}
	var by []string
	rows := 0
	for _, t := range []time.Time{*c.FirstCommit, *c.LastCommit} {
		i := slices.IndexFunc(ds, func(d discard) bool { return d.commit.Equal(t) && owned(d) != "" })
		if i < 0 {
			return false, fmt.Sprintf("%s never logged a discard of %s for the transaction committed at %s (%s)", node, findingNames(findings), pgTimestamp(t), c.Line)
		}
		if !slices.Contains(by, owned(ds[i])) {
			by = append(by, owned(ds[i]))
		}
	}
	for _, d := range ds {
		if !d.commit.Before(*c.FirstCommit) && !d.commit.After(*c.LastCommit) && owned(d) != "" {
			rows += d.rows
		}
	}
	if int64(rows) < int64(c.Rows) {
		return false, fmt.Sprintf("%s's discards of %s committed %s to %s hold %d row changes, fewer than the %d rows of %s", node, findingNames(findings), pgTimestamp(*c.FirstCommit), pgTimestamp(*c.LastCommit), rows, c.Rows, c.Line)
	}
	return true, fmt.Sprintf("%s discarded the transaction committed at %s (%s, %d rows)", node, pgTimestamp(*c.FirstCommit), strings.Join(by, ", "), c.Rows)
}

// findingNames names the findings that own discard lines.
func findingNames(findings []Finding) string {
	var names []string
	for _, f := range findings {
		if len(f.DiscardLogs) > 0 {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, " or ")
}

// discardsIn reads a server log for discard lines (any release's
// wording) and the transaction their CONTEXT lines name ("... xid N
// committed at <ts> (action #N) ...").
func discardsIn(b []byte) ([]discard, error) {
	var out []discard
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pending := ""
	for sc.Scan() {
		line := sc.Text()
		if containsAny(line, discardLogs) {
			pending = line
			continue
		}
		if pending != "" && strings.Contains(line, "CONTEXT:") {
			if d, ok := parseDiscardContext(pending, line); ok {
				out = append(out, d)
			}
		}
		pending = ""
	}
	return out, sc.Err()
}

// parseDiscardContext reads a discard's CONTEXT line: "... committed at
// 2026-12-02 00:17:44.35654+00 (action #7) ...".
func parseDiscardContext(line, context string) (discard, bool) {
	_, rest, ok := strings.Cut(context, " committed at ")
	if !ok {
		return discard{}, false
	}
	ts, rest, _ := strings.Cut(rest, "+00")
	at, err := time.Parse("2006-01-02 15:04:05.999999", ts)
	if err != nil {
		return discard{}, false
	}
	d := discard{line: line, commit: at.UTC(), rows: -1}
	if _, x, ok := strings.Cut(context, ", xid "); ok {
		x, _, _ = strings.Cut(x, " ")
		d.xid, _ = strconv.ParseInt(x, 10, 64)
	}
	if _, n, ok := strings.Cut(rest, "(action #"); ok {
		n, _, _ = strings.Cut(n, ")")
		if actions, err := strconv.Atoi(n); err == nil {
			d.rows = actions - 2
		}
	}
	return d, true
}

// pgTimestamp formats t as PostgreSQL prints a timestamptz in a UTC log
// (microseconds, trailing zeros trimmed).
func pgTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
}
