package reports

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
)

// JUnit XML in the testsuites/testsuite/testcase/failure shape that CI
// systems read: one testsuite per run, one testcase per checker, one for
// recovery, and one named "harness" when the run hit a harness error.
// A failing checker is a <failure>; an unknown verdict is an <error>; a
// checker that did not apply (skipped) is a <skipped>.

// JUnitTestSuites is the root element.
type JUnitTestSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Time     float64          `xml:"time,attr"`
	Suites   []JUnitTestSuite `xml:"testsuite"`
}

// JUnitTestSuite is one run.
type JUnitTestSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       float64         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitTestCase `xml:"testcase"`
}

// JUnitProperty is a name/value pair of a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitTestCase is one checker (or recovery, or the harness).
type JUnitTestCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	Skipped   *JUnitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitProblem is a failure, error or skip with its message and text.
type JUnitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// firstKeysInMessage is how many differing keys a failure message names.
const firstKeysInMessage = 5

// JUnitOf is the JUnit report of run.
func JUnitOf(run *record.Run) JUnitTestSuites {
	class := "spockchaos." + run.Scenario
	suite := JUnitTestSuite{
		Name: fmt.Sprintf("%s seed %d", run.Scenario, run.Seed),
		Properties: []JUnitProperty{
			{Name: "scenario", Value: run.Scenario},
			{Name: "seed", Value: itoa(run.Seed)},
			{Name: "flavor", Value: run.Flavor},
			{Name: "verdict", Value: string(run.EffectiveVerdict())},
			{Name: "replay", Value: record.ReplayCommand(run)},
		},
	}
	if start, end := runSpan(run); !start.IsZero() {
		suite.Timestamp = start.UTC().Format(time.RFC3339)
		suite.Time = end.Sub(start).Seconds()
	}
	if run.Error != "" {
		suite.Cases = append(suite.Cases, JUnitTestCase{Name: "harness", Classname: class,
			Error: &JUnitProblem{Message: oneLine(run.Error), Type: "harness", Text: run.Error}})
	}
	for _, c := range run.Checkers {
		suite.Cases = append(suite.Cases, checkerCase(class, c))
	}
	suite.Cases = append(suite.Cases, recoveryCase(class, run))
	for _, c := range suite.Cases {
		suite.Tests++
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Error != nil:
			suite.Errors++
		case c.Skipped != nil:
			suite.Skipped++
		}
	}
	return JUnitTestSuites{Name: "spockchaos", Tests: suite.Tests, Failures: suite.Failures,
		Errors: suite.Errors, Time: suite.Time, Suites: []JUnitTestSuite{suite}}
}

func checkerCase(class string, c verify.CheckResult) JUnitTestCase {
	tc := JUnitTestCase{Name: c.Name, Classname: class, SystemOut: c.Summary}
	msg := oneLine(c.Summary)
	if keys := FirstKeys(c, firstKeysInMessage); len(keys) > 0 && c.Problem() {
		msg += "; first differing keys: " + strings.Join(keys, "; ")
	}
	text := c.Summary
	if c.Details != nil {
		text += "\n\n" + compact(generic(c.Details), 20000)
	}
	switch c.Verdict {
	case verify.Pass:
	case verify.Skipped:
		// Not applicable is not a pass: CI shows it as a skipped test.
		tc.Skipped = &JUnitProblem{Message: msg, Type: "skipped", Text: text}
	case verify.Fail:
		tc.Failure = &JUnitProblem{Message: msg, Type: "fail", Text: text}
	default:
		tc.Error = &JUnitProblem{Message: msg, Type: "unknown", Text: text}
	}
	return tc
}

func recoveryCase(class string, run *record.Run) JUnitTestCase {
	tc := JUnitTestCase{Name: "recovery", Classname: class}
	if p, ok := phaseNamed(run, record.PhaseRecover); ok {
		tc.Time = p.Duration().Seconds()
	}
	r := run.Recovery
	if r == nil {
		tc.Skipped = &JUnitProblem{Message: "this run had no recovery step"}
		return tc
	}
	tc.SystemOut = recoveryLine(r)
	if len(r.Errors) > 0 {
		tc.Failure = &JUnitProblem{Message: fmt.Sprintf("recovery (%s) reported %d error(s): %s", r.Strategy, len(r.Errors), oneLine(r.Errors[0])),
			Type: "fail", Text: strings.Join(r.Errors, "\n")}
	}
	return tc
}

// MarshalJUnit is the junit.xml text of run.
func MarshalJUnit(run *record.Run) ([]byte, error) {
	b, err := xml.MarshalIndent(JUnitOf(run), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode junit.xml: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

func phaseNamed(run *record.Run, name string) (record.Phase, bool) {
	for _, p := range run.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return record.Phase{}, false
}

// runSpan is the earliest phase start and the latest phase end.
func runSpan(run *record.Run) (start, end time.Time) {
	for _, p := range run.Phases {
		if !p.Start.IsZero() && (start.IsZero() || p.Start.Before(start)) {
			start = p.Start
		}
		for _, t := range []time.Time{p.Start, p.End} {
			if t.After(end) {
				end = t
			}
		}
	}
	return start, end
}
