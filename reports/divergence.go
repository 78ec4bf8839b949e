package reports

import (
	"encoding/json"
	"fmt"
	"strings"

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
// class with its first keys, before any per-row list.
func divergenceMarkdown(classes []verify.DivergenceClass) string {
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
	}
	return b.String()
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
