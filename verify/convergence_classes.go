package verify

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DivergenceClass groups the differing rows of one table that differ the
// same way: present on the same nodes and absent on the same others, with
// the same columns differing among those that have them, written by the
// same origin nodes. A report lists its classes before its rows, so that
// thousands of differing rows read as a few lines, e.g. "public.ledger:
// 11,605 rows of origin n3, committed 19:32:56.09-19:32:58.08, on n2 but
// not on n1". Every differing row is counted in exactly one class, also
// those beyond MaxReportedRows.
type DivergenceClass struct {
	Table     string   `json:"table"`
	PresentOn []string `json:"present_on"`
	AbsentOn  []string `json:"absent_on,omitempty"`
	// DifferingColumns are the columns whose values differ among the
	// nodes that have the rows.
	DifferingColumns []string `json:"differing_columns,omitempty"`
	// Origins are the origin nodes of the rows' versions (a version
	// written locally has the node it is on as origin), "unknown" where
	// the commit timestamp is not known.
	Origins []string `json:"origins"`
	// FirstCommit and LastCommit bound the versions' commit timestamps.
	FirstCommit *time.Time `json:"first_commit,omitempty"`
	LastCommit  *time.Time `json:"last_commit,omitempty"`
	Rows        int64      `json:"rows"`
	// Examples are the keys of the class's first rows (up to classExamples).
	Examples []string `json:"examples"`
	// Line is the class in one sentence.
	Line string `json:"line"`
}

// classExamples is how many keys a class names.
const classExamples = 5

// unknownOrigin stands for a version whose origin is not known.
const unknownOrigin = "unknown"

// classify counts one differing row (the versions of its key, nil where
// absent, in tc.snaps order) into its class.
func (tc *tableComparison) classify(versions []*fetchedRow) {
	var present, absent, origins []string
	var first, last *time.Time
	var had []*fetchedRow
	for i, v := range versions {
		name := tc.snaps[i].target.Name
		if v == nil {
			absent = append(absent, name)
			continue
		}
		present = append(present, name)
		had = append(had, v)
		origin := unknownOrigin
		if v.origin != nil {
			origin = tc.snaps[i].originDisplay(*v.origin)
			if origin == "local" {
				origin = name
			}
		}
		if !slices.Contains(origins, origin) {
			origins = append(origins, origin)
		}
		if ts := v.commitTS; ts != nil {
			if first == nil || ts.Before(*first) {
				first = ts
			}
			if last == nil || ts.After(*last) {
				last = ts
			}
		}
	}
	var cols []string
	for j, c := range tc.plan.def.Columns {
		for _, v := range had[1:] {
			if !sameText(v.vals[j], had[0].vals[j]) {
				cols = append(cols, c.Name)
				break
			}
		}
	}
	slices.Sort(origins)
	key := strings.Join([]string{strings.Join(present, ","), strings.Join(absent, ","), strings.Join(cols, ","), strings.Join(origins, ",")}, "|")
	if tc.classes == nil {
		tc.classes = map[string]*DivergenceClass{}
	}
	c, ok := tc.classes[key]
	if !ok {
		c = &DivergenceClass{Table: tc.res.Table, PresentOn: present, AbsentOn: absent, DifferingColumns: cols, Origins: origins}
		tc.classes[key] = c
	}
	c.Rows++
	if len(c.Examples) < classExamples {
		c.Examples = append(c.Examples, had[0].keyText)
	}
	if first != nil && (c.FirstCommit == nil || first.Before(*c.FirstCommit)) {
		c.FirstCommit = first
	}
	if last != nil && (c.LastCommit == nil || last.After(*c.LastCommit)) {
		c.LastCommit = last
	}
}

// finishClasses is the table's classes, largest first, each with its line.
func (tc *tableComparison) finishClasses() []DivergenceClass {
	out := make([]DivergenceClass, 0, len(tc.classes))
	for _, c := range tc.classes {
		c.Line = c.line()
		out = append(out, *c)
	}
	SortClasses(out)
	return out
}

// SortClasses orders classes largest first, then by table and line.
func SortClasses(cs []DivergenceClass) {
	slices.SortFunc(cs, func(a, b DivergenceClass) int {
		return cmp.Or(cmp.Compare(b.Rows, a.Rows), cmp.Compare(a.Table, b.Table), cmp.Compare(a.Line, b.Line))
	})
}

// line is e.g. "public.ledger: 11,605 rows of origin n3, committed
// 19:32:56.09-19:32:58.08, on n2 but not on n1".
func (c *DivergenceClass) line() string {
	var b strings.Builder
	noun := "rows"
	if c.Rows == 1 {
		noun = "row"
	}
	fmt.Fprintf(&b, "%s: %s %s", c.Table, thousands(c.Rows), noun)
	if len(c.Origins) == 1 {
		fmt.Fprintf(&b, " of origin %s", c.Origins[0])
	} else if len(c.Origins) > 1 {
		fmt.Fprintf(&b, " of origins %s", strings.Join(c.Origins, ", "))
	}
	if c.FirstCommit != nil {
		fmt.Fprintf(&b, ", committed %s", clock(*c.FirstCommit))
		if !c.LastCommit.Equal(*c.FirstCommit) {
			fmt.Fprintf(&b, "-%s", clock(*c.LastCommit))
		}
	}
	if len(c.AbsentOn) > 0 {
		fmt.Fprintf(&b, ", on %s but not on %s", strings.Join(c.PresentOn, ", "), strings.Join(c.AbsentOn, ", "))
	} else {
		fmt.Fprintf(&b, ", on %s", strings.Join(c.PresentOn, ", "))
	}
	if len(c.DifferingColumns) > 0 {
		fmt.Fprintf(&b, ", differing in %s", strings.Join(c.DifferingColumns, ", "))
	}
	return b.String()
}

// clock is a commit time to the hundredth of a second, UTC (the run's
// date is in the report; a class spans seconds, not days).
func clock(t time.Time) string { return t.UTC().Format("15:04:05.00") }

// thousands is n with comma separators: 11605 -> "11,605".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
