package verify

import (
	"context"
	"fmt"
	"strings"
)

// ConvergenceCheckName is the checker's name in results.
const ConvergenceCheckName = "convergence"

// CheckConvergence runs Convergence and turns its outcome into a
// CheckResult (an error is Unknown, never Pass).
func CheckConvergence(ctx context.Context, targets []Target, opts ConvergenceOptions) CheckResult {
	rep, err := Convergence(ctx, targets, opts)
	return ConvergenceResult(rep, err)
}

// ConvergenceResult is the CheckResult of a convergence report, or of the
// error that prevented one. Details holds the report.
func ConvergenceResult(rep *ConvergenceReport, err error) CheckResult {
	r := CheckResult{Name: ConvergenceCheckName}
	switch {
	case err != nil:
		r.Verdict = Unknown
		r.Summary = "could not compare: " + err.Error()
		return r
	case rep == nil:
		r.Verdict = Unknown
		r.Summary = "could not compare: no report"
		return r
	}
	r.Details = rep
	if rep.Converged {
		r.Verdict = Pass
		r.Summary = fmt.Sprintf("%s identical on %s", fmt.Sprintf("%d %s", len(rep.Tables), Plural(len(rep.Tables), "table", "tables")), strings.Join(rep.Nodes, ", "))
		return r
	}
	r.Verdict = Fail
	var parts []string
	for _, t := range rep.Tables {
		switch t.Status {
		case TableConverged:
		case TableMissing:
			parts = append(parts, fmt.Sprintf("%s missing on %s", t.Table, strings.Join(t.MissingOn, ", ")))
		case TableSchemaDiffers:
			parts = append(parts, fmt.Sprintf("%s schema differs (%d rows differ)", t.Table, t.DifferingRows))
		default:
			parts = append(parts, fmt.Sprintf("%s: %d rows differ", t.Table, t.DifferingRows))
		}
	}
	r.Summary = fmt.Sprintf("%d of %d tables differ on %s: %s", len(parts), len(rep.Tables), strings.Join(rep.Nodes, ", "), strings.Join(parts, "; "))
	if len(rep.Classes) > 0 {
		r.Summary += fmt.Sprintf("; %d %s, largest: %s", len(rep.Classes), Plural(len(rep.Classes), "class", "classes"), rep.Classes[0].Line)
	}
	return r
}

// Plural is one when n is 1, else many: "1 table", "2 tables".
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
