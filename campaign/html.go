package campaign

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"path"
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

//go:embed campaign.html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("campaign.html").Parse(htmlTemplateText))

type htmlPage struct {
	C           *Campaign
	Totals      Totals
	Status      string
	StatusClass string
	GeneratedAt string
	Grids       []grid
	Rates       []Rate
	RTO         []RecoveryTime
	Flaky       []Flaky
	Diffs       []TargetDiff
	Unmet       []unmetRow
	Explained   []unmetRow
}

// grid is the scenarios x seeds matrix of one target.
type grid struct {
	Target string
	Seeds  []int64
	Rows   []gridRow
}

type gridRow struct {
	Scenario string
	Expect   string
	Cells    [][]gridCell // per seed, per repeat
}

type gridCell struct {
	Class, Label, Title, Link string
}

type unmetRow struct {
	Cell          string
	Verdict       string
	Expect        string
	Failed        string
	Error         string
	Replay, Repro string
	Report        string
	Explained     string
}

// RenderHTML is campaign.html: one self-contained page (inline CSS, no
// script, no fetch) with a scenarios x seeds matrix per target coloured by
// verdict, each cell linking to its run's report.html; the rate per
// scenario and target; the flaky scenarios; the verdicts that differ
// between targets; and the reproduction command of every failing cell.
func RenderHTML(c *Campaign) ([]byte, error) {
	t := totalsOf(c.Cells)
	page := htmlPage{C: c, Totals: t, GeneratedAt: time.Now().UTC().Format(time.RFC3339),
		Rates: c.Rates(), RTO: c.RecoveryTimes(), Flaky: c.Flaky(), Diffs: c.TargetDiffs()}
	switch c.ExitCode() {
	case ExitMet:
		page.Status, page.StatusClass = "every cell met its expected verdict", "pass"
		if t.Explained > 0 {
			page.Status = fmt.Sprintf("every cell met its expected verdict or failed by known findings only (%d explained)", t.Explained)
		}
	case ExitUnmet:
		page.Status, page.StatusClass = fmt.Sprintf("%d cells did NOT meet their expected verdict", t.Unmet), "fail"
	default:
		page.Status, page.StatusClass = fmt.Sprintf("incomplete: %d harness errors, %d cells not run", t.Unknown, t.Pending), "unknown"
	}
	page.Grids = grids(c)
	for _, r := range c.Unmet() {
		page.Unmet = append(page.Unmet, rowOf(r))
	}
	for _, r := range c.Explained() {
		page.Explained = append(page.Explained, rowOf(r))
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("render %s: %w", HTMLFile, err)
	}
	return buf.Bytes(), nil
}

func rowOf(r CellResult) unmetRow {
	u := unmetRow{Cell: r.Cell.String(), Verdict: string(r.Verdict), Expect: string(r.Expect),
		Failed: orDash(joinComma(r.Failed)), Error: r.Error, Replay: r.Replay, Explained: r.Explained}
	if r.RunDir != "" {
		u.Repro, u.Report = "spockchaos repro "+r.RunDir, path.Join(r.RunDir, "report.html")
	}
	return u
}

func grids(c *Campaign) []grid {
	var out []grid
	for _, t := range c.Matrix.CellTargets() {
		g := grid{Target: t.Name(), Seeds: c.Matrix.Seeds}
		for _, sc := range c.Matrix.Scenarios {
			row := gridRow{Scenario: sc, Cells: make([][]gridCell, len(g.Seeds))}
			any := false
			for si, seed := range g.Seeds {
				for _, r := range c.Cells {
					if r.Scenario != sc || r.Seed != seed || r.Target != t {
						continue
					}
					any = true
					row.Expect = string(r.Expect)
					row.Cells[si] = append(row.Cells[si], cellView(r))
				}
			}
			if any {
				g.Rows = append(g.Rows, row)
			}
		}
		if len(g.Rows) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func cellView(r CellResult) gridCell {
	v := gridCell{Class: "pending", Label: "·", Title: r.Cell.String() + ": not run"}
	if !r.Done() {
		return v
	}
	switch r.Verdict {
	case verify.Pass:
		v.Class, v.Label = "pass", "P"
	case verify.Fail:
		v.Class, v.Label = "fail", "F"
	case verify.Skipped:
		v.Class, v.Label = "skipped", "S"
		v.Title = fmt.Sprintf("%s: skipped: %s", r.Cell, firstLine(r.Error))
		return v
	default:
		v.Class, v.Label = "unknown", "?"
	}
	v.Title = fmt.Sprintf("%s: %s (expected %s), %.1f s", r.Cell, r.Verdict, r.Expect, r.DurationSeconds)
	switch r.Outcome() {
	case OutcomeExplained:
		v.Class += " explained"
		v.Label += "*"
		v.Title += "; explained by known findings: " + r.Explained
	case OutcomeUnexpected, OutcomeUnknown:
		v.Class += " unmet"
		v.Label += "!"
	}
	if r.RunDir != "" {
		v.Link = path.Join(r.RunDir, "report.html")
	}
	return v
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
