package verify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/record"
)

// FindEvidence attaches to each divergence class what the servers of the
// nodes that lack its rows (or hold them alone, or hold a differing
// version) said about them: the server-log entries (a message with its
// DETAIL/CONTEXT lines) naming a transaction committed within the class's
// commit times ("xid N committed at <ts>", as Spock and pglogical name
// the transaction they apply, discard or fail; an entry naming another
// time is about another transaction) and no other table; entries naming
// no commit time that say a transaction was discarded, a subscription
// disabled or an apply failed, naming the class's subscription or table,
// logged from 10 s before its first commit to 60 s after its last; and
// the node's exception_log rows of the class's table and commit times.
// The run record keeps no commit LSN or xid per row, so the commit time
// (to the microsecond) and origin are the keys. At most 6 lines per class
// and node are kept, the rest counted; none found is said as such. It is
// generic: Finding.Explains (scenarios) still names one known bug.

// ClassEvidence is what one node's server said about one divergence class
// (record.ClassEvidence, stored in run.json and results.json).
type ClassEvidence = record.ClassEvidence

// EvidenceInput is what FindEvidence searches.
type EvidenceInput struct {
	Classes []DivergenceClass
	// Logs are the nodes' server logs by node name (absent: not captured).
	Logs map[string][]byte
	// Exceptions are the survivors' spock.exception_log rows (the
	// exception-audit capture), when read.
	Exceptions []ExceptionRow
	// Subscriptions names, per subscriber node, its subscription from
	// each origin node.
	Subscriptions map[string]map[string]string
}

// The time window, around a class's commit times, in which a line that
// names no commit time (a disable, an apply error) still counts when it
// names the class's subscription or table: a transaction is applied, or
// fails, after it commits, seconds later under a fault (a partition's
// heal, a restart).
const (
	evidenceBefore = 10 * time.Second
	evidenceAfter  = 60 * time.Second
	// evidenceLines bounds the lines kept per class and node (the others
	// are counted).
	evidenceLines = 6
	// evidenceLineBytes bounds each line of a log entry kept.
	evidenceLineBytes = 320
)

// FindEvidence is, for every class and every node that lacks its rows (or
// holds them alone, or holds a differing version), the server-log entries
// and exception_log rows about the class's transactions. A log entry (a
// line and its DETAIL/CONTEXT lines) is evidence when it names a commit
// time within the class's commit times (Spock and pglogical name the
// transaction they apply, discard or fail that way: "xid N committed at
// <ts>"; an entry naming a time outside them is about another
// transaction) and no other table than the class's; or, naming no
// commit time, when it says a transaction was discarded, a subscription disabled or an apply failed,
// names the class's subscription from one of its origins or its table,
// and was logged from evidenceBefore before the first commit to
// evidenceAfter after the last. An exception_log row is evidence when it
// is the node's, of the class's table, committed within its commit times.
// Nothing else is attached: no evidence is said as such, never guessed.
func FindEvidence(in EvidenceInput) []ClassEvidence {
	entries := map[string][]logEntry{}
	for node, log := range in.Logs {
		entries[node] = parseLogEntries(log)
	}
	var out []ClassEvidence
	for _, c := range in.Classes {
		for _, node := range evidenceNodes(c) {
			e := ClassEvidence{Class: c.Line, Node: node}
			if _, ok := in.Logs[node]; !ok {
				e.Note = "no server log captured"
			}
			var lines []string
			for _, le := range entries[node] {
				if le.explains(c, in.Subscriptions[node]) {
					lines = append(lines, le.text())
				}
			}
			for _, r := range in.Exceptions {
				if r.Node == node && exceptionExplains(r, c) {
					lines = append(lines, "spock.exception_log: "+r.describe())
				}
			}
			if len(lines) > evidenceLines {
				e.More = len(lines) - evidenceLines
				lines = lines[:evidenceLines]
			}
			e.Lines = lines
			out = append(out, e)
		}
	}
	return out
}

// evidenceNodes are the nodes whose servers can explain a class: those
// lacking its rows, those holding them when they are fewer (extra rows),
// and every holder of a differing version.
func evidenceNodes(c DivergenceClass) []string {
	var nodes []string
	if len(c.AbsentOn) > 0 {
		nodes = append(nodes, c.AbsentOn...)
		if len(c.PresentOn) < len(c.AbsentOn) {
			nodes = append(nodes, c.PresentOn...)
		}
	}
	if len(c.DifferingColumns) > 0 {
		for _, n := range c.PresentOn {
			if !slices.Contains(nodes, n) {
				nodes = append(nodes, n)
			}
		}
	}
	return nodes
}

// logEntry is one server-log message: its first line and the DETAIL,
// CONTEXT, HINT or STATEMENT lines the same process logged with it.
type logEntry struct {
	at       time.Time // from the first line's prefix; zero if unreadable
	severity string    // LOG, WARNING, ERROR, FATAL, PANIC ...
	lines    []string
}

// continuation severities belong to the message before them.
var continuation = []string{"DETAIL:", "CONTEXT:", "HINT:", "STATEMENT:", "QUERY:"}

var severities = []string{"PANIC:", "FATAL:", "ERROR:", "WARNING:", "LOG:"}

// parseLogEntries splits a server log (log_line_prefix '%m [%p] ...')
// into messages.
func parseLogEntries(log []byte) []logEntry {
	var out []logEntry
	for _, line := range strings.Split(string(log), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		sev := lineSeverity(line, severities)
		cont := lineSeverity(line, continuation) != ""
		if (sev == "" || cont) && len(out) > 0 {
			last := &out[len(out)-1]
			last.lines = append(last.lines, line)
			continue
		}
		out = append(out, logEntry{at: LogTime(line), severity: strings.TrimSuffix(sev, ":"), lines: []string{line}})
	}
	return out
}

// lineSeverity is the first of words that the line holds after its
// prefix ("" for none).
func lineSeverity(line string, words []string) string {
	best, bestAt := "", -1
	for _, w := range words {
		if i := strings.Index(line, " "+w+"  "); i >= 0 && (bestAt < 0 || i < bestAt) {
			best, bestAt = w, i
		}
	}
	return best
}

// relationRE matches the relation a message names ("on relation
// public.t", "from remote relation public.t", "replication target
// relation (public.t)").
var relationRE = regexp.MustCompile(`relation \(?([A-Za-z0-9_."]+)`)

// explains reports whether the entry is evidence for class c on a node
// whose subscriptions from each origin are subs.
func (e logEntry) explains(c DivergenceClass, subs map[string]string) bool {
	text := strings.Join(e.lines, "\n")
	if rel := namedRelations(text); len(rel) > 0 && !slices.Contains(rel, bareTable(c.Table)) {
		return false
	}
	if c.FirstCommit == nil || c.LastCommit == nil {
		return false
	}
	// An entry naming the transaction it is about is about that one only.
	if m := committedAtRE.FindStringSubmatch(text); m != nil {
		t, err := time.Parse("2006-01-02 15:04:05.999999999-07", m[1])
		return err == nil && !t.Before(*c.FirstCommit) && !t.After(*c.LastCommit)
	}
	return e.failureKind() && e.withinWindow(c) && namesClass(text, c, subs)
}

// committedAtRE matches the transaction an apply message names, as Spock
// and pglogical write it in its CONTEXT ("xid 770 committed at
// 2026-12-06 05:11:34.927235+00"); the log prefix's own time ends in a
// zone name, not an offset, and does not match.
var committedAtRE = regexp.MustCompile(`committed at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}(?::\d{2})?)`)

// failureKind: the entry says a transaction was discarded, a
// subscription disabled, or something failed.
func (e logEntry) failureKind() bool {
	lower := strings.ToLower(e.lines[0])
	return strings.Contains(lower, "discard") || strings.Contains(lower, "disabl") ||
		e.severity == "ERROR" || e.severity == "FATAL" || e.severity == "PANIC"
}

func (e logEntry) withinWindow(c DivergenceClass) bool {
	if e.at.IsZero() || c.FirstCommit == nil || c.LastCommit == nil {
		return false
	}
	return !e.at.Before(c.FirstCommit.Add(-evidenceBefore)) && !e.at.After(c.LastCommit.Add(evidenceAfter))
}

// namesClass: the text names the subscription from one of the class's
// origins, or its table.
func namesClass(text string, c DivergenceClass, subs map[string]string) bool {
	for _, o := range c.Origins {
		if sub := subs[o]; sub != "" && namesWord(text, sub) {
			return true
		}
	}
	return slices.Contains(namedRelations(text), bareTable(c.Table))
}

// namedRelations are the bare table names the text names as relations.
func namedRelations(text string) []string {
	var out []string
	for _, m := range relationRE.FindAllStringSubmatch(text, -1) {
		out = append(out, bareTable(strings.TrimRight(m[1], `."`)))
	}
	return out
}

// text is the entry as kept: its first line and its CONTEXT lines, each
// shortened.
func (e logEntry) text() string {
	parts := []string{shorten(e.lines[0])}
	for _, l := range e.lines[1:] {
		if strings.Contains(l, " CONTEXT:  ") {
			parts = append(parts, shorten(l))
		}
	}
	return strings.Join(parts, " | ")
}

func shorten(s string) string {
	if len(s) <= evidenceLineBytes {
		return s
	}
	return s[:evidenceLineBytes] + fmt.Sprintf("… (%d bytes)", len(s))
}

// exceptionExplains: the row is of the class's table, committed within
// its commit times, from one of its origins (or one not known).
func exceptionExplains(r ExceptionRow, c DivergenceClass) bool {
	if c.FirstCommit == nil || c.LastCommit == nil || bareTable(r.Table) != bareTable(c.Table) {
		return false
	}
	if r.RemoteCommitTS.Before(*c.FirstCommit) || r.RemoteCommitTS.After(*c.LastCommit) {
		return false
	}
	return slices.Contains(c.Origins, r.Origin) || slices.Contains(c.Origins, unknownOrigin)
}
