package reports

import (
	"fmt"
	"strings"

	"github.com/spockchaos/spockchaos/record"
)

// SummaryOf is summary.md: short enough for a CI step summary (verdict,
// seed, how to replay, faults, recovery counts, checker table).
func SummaryOf(run *record.Run) string {
	var b strings.Builder
	v := run.EffectiveVerdict()
	fmt.Fprintf(&b, "## spockchaos %s: %s %s\n\n", run.Scenario, verdictMark(string(v)), strings.ToUpper(string(v)))
	fmt.Fprintf(&b, "- seed: `%d`, flavor: %s, nodes: %d\n", run.Seed, orDash(run.Flavor), len(run.Nodes))
	fmt.Fprintf(&b, "- replay: `%s`\n", record.ReplayCommand(run))
	if run.Error != "" {
		fmt.Fprintf(&b, "- harness error: %s\n", mdCell(run.Error))
	}
	if len(run.Faults) == 0 {
		b.WriteString("- faults: none\n")
	}
	for _, f := range run.Faults {
		// Only a kill counts the ops in flight when its signal went.
		if f.Kind == "kill" {
			fmt.Fprintf(&b, "- fault: %s on %s (in flight at kill: %d)\n", f.Kind, f.Node, f.InFlightAtKill)
		} else {
			fmt.Fprintf(&b, "- fault: %s on %s\n", f.Kind, f.Node)
		}
	}
	if run.Recovery == nil {
		b.WriteString("- recovery: none in this scenario\n")
	} else {
		fmt.Fprintf(&b, "- recovery: %s\n", recoveryLine(run.Recovery))
	}
	b.WriteString("\n| checker | verdict | summary |\n|---|---|---|\n")
	for _, c := range run.Checkers {
		fmt.Fprintf(&b, "| %s | %s %s | %s |\n", mdCell(c.Name), verdictMark(string(c.Verdict)), c.Verdict, mdCell(c.Summary))
	}
	if len(run.Checkers) == 0 {
		b.WriteString("| (none) | unknown | no checker ran |\n")
	}
	b.WriteString(divergenceMarkdown(DivergenceOf(run.Checkers), run.Evidence))
	for _, line := range FailingKeys(run, summaryKeys) {
		fmt.Fprintf(&b, "\n- %s", mdCell(line))
	}
	return b.String()
}

// summaryKeys is how many keys summary.md names per failing checker.
const summaryKeys = 5

// FailingKeys is one line per checker that did not pass and lists items:
// the checker and its first n keys (e.g. "convergence: first differing
// keys: ..."), for summary.md and the run command's output.
func FailingKeys(run *record.Run, n int) []string {
	var out []string
	for _, c := range run.Checkers {
		if !c.Problem() {
			continue
		}
		if keys := FirstKeys(c, n); len(keys) > 0 {
			out = append(out, fmt.Sprintf("%s: first keys: %s", c.Name, strings.Join(keys, "; ")))
		}
	}
	return out
}

// recoveryLine is a recovery result in one line.
func recoveryLine(r *record.Recovery) string {
	s := fmt.Sprintf("%s of %s: %d transactions, %d rows recovered", r.Strategy, orDash(r.FailedNode), r.TransactionsRecovered, r.RowsRecovered)
	if r.NothingToRecover {
		s += " (nothing to recover)"
	}
	var pairs []string
	for _, p := range r.PerPair {
		pairs = append(pairs, fmt.Sprintf("%s→%s %d txns", p.Source, p.Target, p.Transactions))
	}
	if len(pairs) > 0 {
		s += "; " + strings.Join(pairs, ", ")
	}
	if len(r.Findings) > 0 {
		s += "; FAILED: " + strings.Join(r.Findings, "; ")
	}
	if len(r.Errors) > 0 {
		s += fmt.Sprintf("; %d error(s)", len(r.Errors))
	}
	return s
}

func verdictMark(v string) string {
	switch v {
	case "pass":
		return "✅"
	case "fail":
		return "❌"
	case "skipped":
		return "⏭️"
	}
	return "⚠️"
}

// mdCell makes s safe and short inside a Markdown table cell.
func mdCell(s string) string {
	s = oneLine(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.NewReplacer("|", `\|`, "`", "'").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
