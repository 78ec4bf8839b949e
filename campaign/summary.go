package campaign

import (
	"fmt"
	"path"
	"strings"

	"github.com/spockchaos/spockchaos/harness"
)

// SummaryOf is summary.md: totals, the rate per scenario and target, the
// flaky scenarios, the target differences, and every failing cell with
// its reproduction command. Short enough for a CI step summary.
func SummaryOf(c *Campaign) string {
	var b strings.Builder
	t := totalsOf(c.Cells)
	status := "every cell met its expected verdict"
	if t.Explained > 0 {
		status = fmt.Sprintf("every cell met its expected verdict or failed by known findings only (%d explained)", t.Explained)
	}
	switch c.ExitCode() {
	case ExitUnmet:
		status = fmt.Sprintf("%d cells did NOT meet their expected verdict", t.Unmet)
	case ExitHarness:
		status = fmt.Sprintf("%d harness errors, %d cells not run", t.Unknown, t.Pending)
	}
	fmt.Fprintf(&b, "## spockchaos campaign %s: %s\n\n", c.Fingerprint, status)
	fmt.Fprintf(&b, "- cells: %d (done %d, pending %d); pass %d, fail %d, unknown %d; met expected %d, explained by known findings %d\n",
		t.Cells, t.Done, t.Pending, t.Pass, t.Fail, t.Unknown, t.Met, t.Explained)
	if t.Skipped > 0 {
		fmt.Fprintf(&b, "- skipped: %d cells the image cannot run (refused before they started)\n", t.Skipped)
	}
	fmt.Fprintf(&b, "- scenarios: %s; seeds: %d; targets: %s; repeat: %d\n",
		strings.Join(c.Matrix.Scenarios, ", "), len(c.Matrix.Seeds), targetNames(c.Matrix.CellTargets()), c.Matrix.Repeat)
	if len(c.Matrix.Settings) > 0 {
		fmt.Fprintf(&b, "- settings of every cell: %s\n", strings.Join(harness.FormatSettings(c.Matrix.Settings), " "))
	}
	if sw := c.Matrix.Sweep; sw != nil {
		fmt.Fprintf(&b, "- swept: %s over %s (one cell per value)\n", sw.Name, strings.Join(sw.Values, ", "))
	}
	if len(c.Sources) > 0 {
		fmt.Fprintf(&b, "- merged from: %s\n", strings.Join(c.Sources, ", "))
	}
	b.WriteString("\n| scenario | target | expect | met expected | explained | pass | fail | unknown | pending |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range c.Rates() {
		fmt.Fprintf(&b, "| %s | %s | %s | %d/%d (%.0f%%) | %d | %d | %d | %d | %d |\n", r.Scenario, r.Target, r.Expect,
			r.Met, r.Done, r.MetRate(), r.Explained, r.Pass, r.Fail, r.Unknown, r.Cells-r.Done)
	}
	if rts := c.RecoveryTimes(); len(rts) > 0 {
		b.WriteString("\n### Recovery time (kill to every survivor level)\n\n| scenario | target | failed nodes | median | max | never level |\n|---|---|---|---|---|---|\n")
		for _, rt := range rts {
			fmt.Fprintf(&b, "| %s | %s | %d | %.2f s | %.2f s | %d |\n", rt.Scenario, rt.Target, rt.Count, rt.Median, rt.Max, rt.NeverLevel)
		}
	}
	if fl := c.Flaky(); len(fl) > 0 {
		b.WriteString("\n### Flaky (mixed verdicts across seeds or repeats)\n\n")
		for _, f := range fl {
			fmt.Fprintf(&b, "- %s on %s: %s", f.Scenario, f.Target, verdictCounts(f.Verdicts))
			if len(f.Nondeterministic) > 0 {
				fmt.Fprintf(&b, "; the same seed disagreed with itself: %v", f.Nondeterministic)
			}
			b.WriteString("\n")
		}
	}
	if diffs := c.TargetDiffs(); len(diffs) > 0 {
		b.WriteString("\n### Verdicts that differ between targets\n\n")
		for _, d := range diffs {
			fmt.Fprintf(&b, "- %s: %s\n", d.Scenario, strings.Join(d.Cases, "; "))
		}
	}
	if sk := c.Skipped(); len(sk) > 0 {
		b.WriteString("\n### Cells skipped: the image cannot run them\n\n")
		for _, r := range sk {
			fmt.Fprintf(&b, "- %s: %s\n", r.Cell, mdEscape(firstLine(r.Error)))
		}
	}
	if ex := c.Explained(); len(ex) > 0 {
		b.WriteString("\n### Cells that failed by known findings only (every failing checker explained by the server's evidence)\n\n")
		for _, r := range ex {
			fmt.Fprintf(&b, "- %s: %s (expected %s), failing: %s\n  - explained: %s\n  - replay: `%s`\n", r.Cell, r.Verdict, r.Expect,
				orDash(strings.Join(r.Failed, ", ")), mdEscape(r.Explained), orDash(r.Replay))
		}
	}
	if un := c.Unmet(); len(un) > 0 {
		b.WriteString("\n### Cells that did not meet their expected verdict\n\n")
		for _, r := range un {
			fmt.Fprintf(&b, "- %s: %s (expected %s)", r.Cell, r.Verdict, r.Expect)
			if len(r.Failed) > 0 {
				fmt.Fprintf(&b, ", failing: %s", strings.Join(r.Failed, ", "))
			}
			if r.Error != "" {
				fmt.Fprintf(&b, ", error: %s", mdEscape(firstLine(r.Error)))
			}
			fmt.Fprintf(&b, "\n  - replay: `%s`\n", orDash(r.Replay))
			if r.RunDir != "" {
				fmt.Fprintf(&b, "  - repro: `spockchaos repro %s`, report: [%s](%s)\n", r.RunDir, r.RunDir, path.Join(r.RunDir, "report.html"))
			}
		}
	}
	return b.String()
}

func targetNames(ts []Target) string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name())
	}
	return strings.Join(names, ", ")
}

func verdictCounts(m map[string]int) string {
	var parts []string
	for _, v := range []string{"pass", "fail", "unknown"} {
		if m[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[v], v))
		}
	}
	return strings.Join(parts, ", ")
}

func mdEscape(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }
