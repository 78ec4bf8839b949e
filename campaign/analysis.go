package campaign

import (
	"fmt"
	"slices"
	"sort"

	"github.com/spockchaos/spockchaos/verify"
)

// Rate is how one scenario did on one target.
type Rate struct {
	Scenario string         `json:"scenario"`
	Target   string         `json:"target"`
	Expect   verify.Verdict `json:"expect"`
	Cells    int            `json:"cells"`
	Done     int            `json:"done"`
	Met      int            `json:"met_expected"`
	Pass     int            `json:"pass"`
	Fail     int            `json:"fail"`
	Unknown  int            `json:"unknown"`
	Skipped  int            `json:"skipped,omitempty"`
	// Explained counts the FAILs known findings explain (not in Met).
	Explained int `json:"explained,omitempty"`
}

// MetRate is the share of done cells that met the expected verdict, in
// percent (0 when none is done).
func (r Rate) MetRate() float64 {
	if r.Done == 0 {
		return 0
	}
	return 100 * float64(r.Met) / float64(r.Done)
}

// Rates are the per-scenario, per-target counts, sorted by scenario then
// target order of the matrix.
func (c *Campaign) Rates() []Rate {
	idx := map[[2]string]int{}
	var out []Rate
	for _, r := range c.Cells {
		k := [2]string{r.Scenario, r.Target.Name()}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Rate{Scenario: r.Scenario, Target: r.Target.Name(), Expect: r.Expect})
		}
		rt := &out[i]
		rt.Cells++
		if !r.Done() {
			continue
		}
		rt.Done++
		switch r.Outcome() {
		case OutcomeAsExpected:
			rt.Met++
		case OutcomeExplained:
			rt.Explained++
		}
		switch r.Verdict {
		case verify.Pass:
			rt.Pass++
		case verify.Fail:
			rt.Fail++
		case verify.Skipped:
			rt.Skipped++
		default:
			rt.Unknown++
		}
	}
	return out
}

// Flaky is a scenario on a target whose done cells did not all reach the
// same verdict. Nondeterministic lists the seeds whose repeats disagree:
// the same plan gave different verdicts.
type Flaky struct {
	Scenario         string         `json:"scenario"`
	Target           string         `json:"target"`
	Verdicts         map[string]int `json:"verdicts"`
	Nondeterministic []int64        `json:"nondeterministic_seeds,omitempty"`
}

// Flaky lists the flaky scenarios per target.
func (c *Campaign) Flaky() []Flaky {
	type key = [2]string
	verdicts := map[key]map[string]int{}
	perSeed := map[key]map[int64]map[verify.Verdict]bool{}
	var order []key
	for _, r := range c.Cells {
		if !r.Done() {
			continue
		}
		k := key{r.Scenario, r.Target.Name()}
		if verdicts[k] == nil {
			verdicts[k] = map[string]int{}
			perSeed[k] = map[int64]map[verify.Verdict]bool{}
			order = append(order, k)
		}
		verdicts[k][string(r.Verdict)]++
		if perSeed[k][r.Seed] == nil {
			perSeed[k][r.Seed] = map[verify.Verdict]bool{}
		}
		perSeed[k][r.Seed][r.Verdict] = true
	}
	var out []Flaky
	for _, k := range order {
		if len(verdicts[k]) < 2 {
			continue
		}
		f := Flaky{Scenario: k[0], Target: k[1], Verdicts: verdicts[k]}
		for seed, vs := range perSeed[k] {
			if len(vs) > 1 {
				f.Nondeterministic = append(f.Nondeterministic, seed)
			}
		}
		slices.Sort(f.Nondeterministic)
		out = append(out, f)
	}
	return out
}

// TargetDiff is a scenario whose verdict differs between targets on the
// same seed and repeat.
type TargetDiff struct {
	Scenario string `json:"scenario"`
	// Cases are "seed S repeat R: target=verdict, ..." lines.
	Cases []string `json:"cases"`
}

// TargetDiffs lists, when the campaign has more than one target, the
// scenarios whose verdict differs between targets for a seed and repeat
// that every target ran.
func (c *Campaign) TargetDiffs() []TargetDiff {
	targets := c.Matrix.CellTargets()
	if len(targets) < 2 {
		return nil
	}
	type key struct {
		scenario string
		seed     int64
		repeat   int
	}
	got := map[key]map[string]verify.Verdict{}
	var keys []key
	for _, r := range c.Cells {
		if !r.Done() {
			continue
		}
		k := key{r.Scenario, r.Seed, r.Repeat}
		if got[k] == nil {
			got[k] = map[string]verify.Verdict{}
			keys = append(keys, k)
		}
		got[k][r.Target.Name()] = r.Verdict
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].scenario < keys[j].scenario })
	var out []TargetDiff
	for _, k := range keys {
		vs := got[k]
		distinct := map[verify.Verdict]bool{}
		for _, v := range vs {
			distinct[v] = true
		}
		if len(vs) < 2 || len(distinct) < 2 {
			continue
		}
		line := fmt.Sprintf("seed %d repeat %d:", k.seed, k.repeat)
		for _, t := range targets {
			if v, ok := vs[t.Name()]; ok {
				line += fmt.Sprintf(" %s=%s", t.Name(), v)
			}
		}
		if n := len(out); n > 0 && out[n-1].Scenario == k.scenario {
			out[n-1].Cases = append(out[n-1].Cases, line)
		} else {
			out = append(out, TargetDiff{Scenario: k.scenario, Cases: []string{line}})
		}
	}
	return out
}

// Unmet are the done cells that did not meet their expected verdict
// (unknown ones included; skipped and explained ones not: Skipped and
// Explained list them), in campaign order.
func (c *Campaign) Unmet() []CellResult {
	return c.withOutcome(OutcomeUnexpected, OutcomeUnknown)
}

// Explained are the FAILs known findings explain, in campaign order.
func (c *Campaign) Explained() []CellResult { return c.withOutcome(OutcomeExplained) }

func (c *Campaign) withOutcome(want ...Outcome) []CellResult {
	var out []CellResult
	for _, r := range c.Cells {
		if slices.Contains(want, r.Outcome()) {
			out = append(out, r)
		}
	}
	return out
}

// Exit codes of a campaign.
const (
	ExitMet     = 0 // every cell met its expected verdict or FAILed by known findings only
	ExitUnmet   = 1 // a cell reached pass/fail other than expected
	ExitHarness = 2 // otherwise: a harness error (unknown) or cells not run
)

// ExitCode is the campaign's exit code: 1 when any cell reached a pass or
// fail verdict other than the expected one that its known findings do not
// explain (a new finding outranks a harness error), else 2 when any cell is unknown or still pending, or when every
// cell was skipped (nothing was qualified), else 0: skipped cells beside
// met ones do not fail a campaign (summary.md lists them with the reason),
// nor do explained FAILs: a known finding, proven again by the server's
// evidence, is what the campaign expects of that target (summary.md lists
// them with what matched; a FAIL the findings do not fully explain is
// unmet).
func (c *Campaign) ExitCode() int {
	t := totalsOf(c.Cells)
	switch {
	case t.Unmet > 0:
		return ExitUnmet
	case t.Unknown > 0 || t.Pending > 0:
		return ExitHarness
	case t.Done > 0 && t.Skipped == t.Done:
		return ExitHarness
	}
	return ExitMet
}

// NotRun is how many cells are still pending.
func (r Rate) NotRun() int { return r.Cells - r.Done }

// Skipped are the cells refused at start because the image cannot run
// their plan (Error says which step needs which capability), in campaign
// order.
func (c *Campaign) Skipped() []CellResult {
	var out []CellResult
	for _, r := range c.Cells {
		if r.Done() && r.Verdict == verify.Skipped {
			out = append(out, r)
		}
	}
	return out
}
