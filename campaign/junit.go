package campaign

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/spockchaos/spockchaos/reports"
)

// JUnitOf is the campaign's JUnit report: one testsuite per target, one
// testcase per cell. A cell that reached pass/fail other than expected is
// a <failure> unless known findings explain it (OutcomeExplained: passed,
// the explanation in its output, as the exit code treats it); unknown
// (harness error) is an <error>; a pending cell is <skipped>. Every case's output carries the replay command and the run
// directory.
func JUnitOf(c *Campaign) reports.JUnitTestSuites {
	root := reports.JUnitTestSuites{Name: "spockchaos campaign " + c.Fingerprint}
	byTarget := map[string]int{}
	for _, r := range c.Cells {
		tn := r.Target.Name()
		i, ok := byTarget[tn]
		if !ok {
			i = len(root.Suites)
			byTarget[tn] = i
			root.Suites = append(root.Suites, reports.JUnitTestSuite{Name: "campaign on " + tn,
				Properties: []reports.JUnitProperty{{Name: "fingerprint", Value: c.Fingerprint}, {Name: "target", Value: tn}}})
		}
		s := &root.Suites[i]
		tc := reports.JUnitTestCase{Name: fmt.Sprintf("%s seed %d repeat %d", r.Scenario, r.Seed, r.Repeat),
			Classname: "spockchaos.campaign." + r.Scenario, Time: r.DurationSeconds}
		out := fmt.Sprintf("verdict: %s (expected %s)\nreplay: %s\nrun directory: %s\n", orDash(string(r.Verdict)), r.Expect, orDash(r.Replay), orDash(r.RunDir))
		if r.Explained != "" {
			out += "explained by known findings: " + r.Explained + "\n"
		}
		tc.SystemOut = out
		switch r.Outcome() {
		case OutcomePending:
			tc.Skipped = &reports.JUnitProblem{Message: "not run (pending or interrupted)"}
			s.Skipped++
		case OutcomeAsExpected, OutcomeExplained:
		case OutcomeSkipped:
			tc.Skipped = &reports.JUnitProblem{Message: "skipped: " + firstLine(r.Error)}
			s.Skipped++
		case OutcomeUnexpected:
			tc.Failure = &reports.JUnitProblem{Type: "verdict", Message: fmt.Sprintf("verdict %s, expected %s; failing checkers: %s",
				r.Verdict, r.Expect, orDash(strings.Join(r.Failed, ", "))), Text: out}
			s.Failures++
		default:
			tc.Error = &reports.JUnitProblem{Type: "harness", Message: "verdict unknown: " + firstLine(r.Error), Text: r.Error + "\n" + out}
			s.Errors++
		}
		s.Tests++
		s.Time += r.DurationSeconds
		s.Cases = append(s.Cases, tc)
	}
	for _, s := range root.Suites {
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Errors += s.Errors
		root.Time += s.Time
	}
	return root
}

// MarshalJUnit is junit.xml of c.
func MarshalJUnit(c *Campaign) ([]byte, error) {
	b, err := xml.MarshalIndent(JUnitOf(c), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode campaign junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	if s == "" {
		return "no error recorded"
	}
	line, _, _ := strings.Cut(s, "\n")
	return line
}
