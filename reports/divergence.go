package reports

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
)

// DivergenceOf is the divergence classes of the run's checkers (the
// convergence check's "classes"), largest first. It reads the details
// generically, so that a run loaded from run.json renders as one just
// made.
func DivergenceOf(checkers []verify.CheckResult) []verify.DivergenceClass {
	var out []verify.DivergenceClass
	for _, c := range checkers {
		if c.Details == nil || !c.Problem() {
			continue
		}
		b, err := json.Marshal(c.Details)
		if err != nil {
			continue
		}
		var d struct {
			Classes []verify.DivergenceClass `json:"classes"`
		}
		if json.Unmarshal(b, &d) == nil {
			out = append(out, d.Classes...)
		}
	}
	verify.SortClasses(out)
	return out
}

// summaryClasses is how many classes summary.md lists.
const summaryClasses = 10

// divergenceMarkdown is summary.md's divergence section: one line per
// class with its first keys, before any per-row list, each followed by
// the server evidence found for it (evidenceMarkdown).
func divergenceMarkdown(classes []verify.DivergenceClass, evidence []record.ClassEvidence) string {
	if len(classes) == 0 {
		return ""
	}
	var rows int64
	for _, c := range classes {
		rows += c.Rows
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n**Divergence**: %d differing %s in %d %s\n\n", rows, verify.Plural(int(rows), "row", "rows"), len(classes), verify.Plural(len(classes), "class", "classes"))
	for i, c := range classes {
		if i == summaryClasses {
			fmt.Fprintf(&b, "- … and %d more classes (results.json, report.html)\n", len(classes)-i)
			break
		}
		fmt.Fprintf(&b, "- %s (e.g. %s)\n", mdCell(c.Line), mdCell(strings.Join(c.Examples, ", ")))
		for _, line := range EvidenceLines(EvidenceFor(c, evidence)) {
			fmt.Fprintf(&b, "  - %s\n", mdEvidence(line))
		}
	}
	return b.String()
}

// mdEvidence is an evidence line for Markdown: one line, escaped, long
// enough for a log message and its CONTEXT (the commit it names is at the
// end).
func mdEvidence(s string) string {
	s = oneLine(s)
	if len(s) > 720 {
		s = s[:720] + "…"
	}
	return strings.NewReplacer("|", `\|`, "`", "'").Replace(s)
}

// EvidenceFor is the evidence stored for class c.
func EvidenceFor(c verify.DivergenceClass, evidence []record.ClassEvidence) []record.ClassEvidence {
	var out []record.ClassEvidence
	for _, e := range evidence {
		if e.Class == c.Line {
			out = append(out, e)
		}
	}
	return out
}

// EvidenceLines is a class's evidence as a reader sees it under the
// class: "evidence from n2's log: <line>" per line found, or "n2: no
// server evidence found" when the search found nothing (with why it was
// partial); a run that searched nothing (no evidence stored) has none.
func EvidenceLines(evidence []record.ClassEvidence) []string {
	var out []string
	for _, e := range evidence {
		for _, l := range e.Lines {
			if rest, ok := strings.CutPrefix(l, "spock.exception_log: "); ok {
				out = append(out, fmt.Sprintf("evidence from %s's spock.exception_log: %s", e.Node, rest))
			} else {
				out = append(out, fmt.Sprintf("evidence from %s's log: %s", e.Node, l))
			}
		}
		if e.More > 0 {
			out = append(out, fmt.Sprintf("… and %d more from %s (nodes/%s/server.log)", e.More, e.Node, e.Node))
		}
		if len(e.Lines) == 0 {
			line := e.Node + ": no server evidence found"
			if e.Note != "" {
				line += " (" + e.Note + ")"
			}
			out = append(out, line)
		}
	}
	return out
}

// withoutClasses drops the "classes" of a checker's generic details, so
// that per-row lists walk the rows only.
func withoutClasses(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if _, has := m["classes"]; !has {
		return v
	}
	c := make(map[string]any, len(m))
	for k, val := range m {
		if k != "classes" {
			c[k] = val
		}
	}
	return c
}
