package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
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
	commit time.Time
	// rows are the transaction's row changes: its COMMIT's action number
	// less BEGIN and COMMIT (handle_begin counts 1, every insert, update,
	// delete and truncate and the COMMIT one more).
	rows int
}

// Explain says whether the findings account for every differing row of a
// failed run: each divergence class of the convergence checker is rows
// absent on some nodes (no differing columns), and each node lacking them
// logged, in lines one of the findings owns, the discard of the
// transactions committed at the class's first and last commit time, and
// of transactions committed in between with at least as many row changes
// as the class has rows. It returns why not, or what it matched. A FAIL
// alone never explains anything.
func Explain(findings []Finding, dir string, checkers []verify.CheckResult) (bool, string) {
	classes, why := absentClasses(checkers)
	if classes == nil {
		return false, why
	}
	logs := map[string][]discard{}
	var matched []string
	for _, c := range classes {
		for _, node := range c.AbsentOn {
			if _, read := logs[node]; !read {
				ds, err := discardsIn(filepath.Join(record.NodeDir(dir, node), "server.log"))
				if err != nil {
					return false, fmt.Sprintf("%s: %v", node, err)
				}
				logs[node] = ds
			}
			ok, what := explainClass(findings, c, node, logs[node])
			if !ok {
				return false, what
			}
			matched = append(matched, what)
		}
	}
	return true, strings.Join(matched, "; ")
}

// absentClasses are the divergence classes of a failed convergence check
// when every one is rows absent on some node with their commit times; nil
// and why not otherwise.
func absentClasses(checkers []verify.CheckResult) ([]verify.DivergenceClass, string) {
	i := slices.IndexFunc(checkers, func(c verify.CheckResult) bool { return c.Name == CheckConvergence })
	if i < 0 || checkers[i].Verdict != verify.Fail {
		return nil, "the convergence check did not fail: nothing for a finding to explain"
	}
	classes := reports.DivergenceOf(checkers[i : i+1])
	if len(classes) == 0 {
		return nil, "the failed convergence check has no divergence class"
	}
	for _, c := range classes {
		if len(c.AbsentOn) == 0 || len(c.DifferingColumns) > 0 {
			return nil, "not rows missing on some node: " + c.Line
		}
		if c.FirstCommit == nil || c.LastCommit == nil {
			return nil, "no commit time to match: " + c.Line
		}
	}
	return classes, ""
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

func findingNames(findings []Finding) string {
	var names []string
	for _, f := range findings {
		names = append(names, f.Name)
	}
	return strings.Join(names, " or ")
}

// discardsIn reads a server log for discard lines (any release's
// wording) and the transaction their CONTEXT lines name ("... xid N
// committed at <ts> (action #N) ...").
func discardsIn(path string) ([]discard, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the server log: %w", err)
	}
	var out []discard
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	pending := ""
	for sc.Scan() {
		line := sc.Text()
		if containsAny(line, spockDiscardLogs) {
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
