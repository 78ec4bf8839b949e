package shrink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// Defaults of a search.
const (
	DefaultBudget    = 12
	DefaultLoadFloor = 2 * time.Second
)

// Stages of the search, in the order they run.
const (
	StageOriginal = "original"
	StageSteps    = "steps"
	StageLoad     = "load"
	StageClients  = "clients"
	StageNodes    = "nodes"
)

// Why a search ended before it had tried every stage (Result.Stopped).
const (
	StoppedBudget = "budget"
	StoppedTime   = "budget-time"
)

// Candidate is one run the search may try.
type Candidate struct {
	Steps    []scenarios.Step
	Duration time.Duration // load
	Clients  int           // clients per node
	Nodes    int
}

// String is the candidate in one line.
func (c Candidate) String() string {
	return fmt.Sprintf("%s, load %s, %d clients/node, %d nodes", describeSteps(c.Steps), c.Duration, c.Clients, c.Nodes)
}

func (c Candidate) key() string {
	parts := make([]string, 0, len(c.Steps)+3)
	for _, s := range c.Steps {
		parts = append(parts, s.String())
	}
	return fmt.Sprintf("%s|%s|%d|%d", strings.Join(parts, ";"), c.Duration, c.Clients, c.Nodes)
}

func describeSteps(steps []scenarios.Step) string {
	if len(steps) == 0 {
		return "no fault steps"
	}
	noun := "steps"
	if len(steps) == 1 {
		noun = "step"
	}
	return fmt.Sprintf("%d %s (%s)", len(steps), noun, joinSteps(steps))
}

func joinSteps(steps []scenarios.Step) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.String()
	}
	return strings.Join(parts, "; ")
}

// Outcome is what one run of a candidate came to.
type Outcome struct {
	Verdict verify.Verdict
	// Failing are the checkers whose verdict was not pass, sorted.
	Failing []string
	// Dir is the run's directory (empty when none was made).
	Dir string
}

// Runner runs one candidate. The error is a harness error; the Outcome
// still says what was made (a run directory, an unknown verdict).
type Runner interface {
	Run(ctx context.Context, c Candidate) (Outcome, error)
}

// RunnerFunc is a function as a Runner.
type RunnerFunc func(ctx context.Context, c Candidate) (Outcome, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, c Candidate) (Outcome, error) { return f(ctx, c) }

// Attempt is one run of the search.
type Attempt struct {
	N         int    // 1 is the original's re-run
	Stage     string // StageOriginal, StageSteps, ...
	What      string // the change tried, e.g. "load 10s -> 5s"
	Candidate Candidate
	Outcome   Outcome
	Err       error
	Kept      bool
	Elapsed   time.Duration
	// Confirm is how many runs in a row had to fail the same way (the
	// search's Config.Confirm), and Confirmed how many did before the
	// first that did not (or all of them); Outcome, Err and Dirs are of
	// those runs, Outcome and Err the last one's.
	Confirm, Confirmed int
	Dirs               []string
}

// Line is the attempt as printed.
func (a Attempt) Line() string {
	verdict := string(a.Outcome.Verdict)
	if verdict == "" {
		verdict = string(verify.Unknown)
	}
	failing := "none"
	if len(a.Outcome.Failing) > 0 {
		failing = strings.Join(a.Outcome.Failing, ",")
	}
	kept := "not kept"
	switch {
	case a.Stage == StageOriginal && a.Kept:
		kept = "reproduced"
	case a.Stage == StageOriginal:
		kept = "NOT reproduced"
	case a.Kept:
		kept = "KEPT"
	}
	line := fmt.Sprintf("attempt %d [%s] %s: %s -> %s, failing %s", a.N, a.Stage, a.What, a.Candidate, verdict, failing)
	if a.Err != nil {
		line += fmt.Sprintf(", error: %s", oneLine(a.Err.Error()))
	}
	if a.Confirm > 1 {
		line += fmt.Sprintf(", failed the same way %d of %d runs in a row", a.Confirmed, a.Confirm)
	}
	line += fmt.Sprintf(" -> %s (%s", kept, a.Elapsed.Round(100*time.Millisecond))
	if dirs := a.dirs(); len(dirs) > 0 {
		line += ", " + strings.Join(dirs, ", ")
	}
	return line + ")"
}

// dirs are the run directories of the attempt's runs.
func (a Attempt) dirs() []string {
	if len(a.Dirs) > 0 {
		return a.Dirs
	}
	if a.Outcome.Dir != "" {
		return []string{a.Outcome.Dir}
	}
	return nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}

// Config is what a search starts from and how far it may go.
type Config struct {
	// Original is the failing run as it ran.
	Original Candidate
	// Failing are the checkers that did not pass in the original, sorted;
	// a candidate is kept only when exactly these fail again.
	Failing []string
	// MinNodes is the least node count a candidate may have (default 2).
	MinNodes int
	// LoadFloor is the shortest load tried (default DefaultLoadFloor).
	LoadFloor time.Duration
	// Budget is the most runs in all, the original's included (0: no limit).
	Budget int
	// Confirm is how many runs in a row a candidate (the original's
	// re-run included) must fail the same way to count as still failing
	// (0 or 1: one run); most of these failures depend on timing.
	Confirm int
	// BudgetTime: no attempt starts once this has passed (0: no limit).
	BudgetTime time.Duration
	// SeedPlan, when set, is the scenario's plan for its seed at a node
	// count and load; while a candidate's steps are exactly it, a shorter
	// load takes the seed's plan at that load instead of scaled steps.
	SeedPlan func(nodes int, load time.Duration) []scenarios.Step
	// Valid, when set, refuses a candidate the scenario would not run; it
	// is then skipped without a run.
	Valid func(Candidate) error
	// Runner runs the candidates.
	Runner Runner
	// Out receives one line per attempt as it ends (and skipped candidates).
	Out io.Writer
	// Status receives a line as each attempt starts (optional).
	Status io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Result is what a search found.
type Result struct {
	Original Candidate
	Failing  []string
	// Reproduced is set when the original's re-run failed the same way.
	Reproduced bool
	// Smallest is the smallest candidate that still fails (the original
	// when nothing smaller did); SmallestDir is its run's directory.
	Smallest    Candidate
	SmallestDir string
	// Smaller is set when Smallest is not the original.
	Smaller  bool
	Attempts []Attempt
	Runs     int
	// Confirm is the runs in a row each kept candidate failed the same way.
	Confirm int
	// Stopped says why the search ended early (StoppedBudget,
	// StoppedTime; empty when every stage ran to its end).
	Stopped string

	// Filled by Shrink: the command line of the smallest failing run and
	// whether it is a plain `spockchaos run` line.
	Command string
	Plain   bool
}

// errStop ends the search: the budget is spent (not an error to report).
var errStop = errors.New("stop")

type search struct {
	cfg   Config
	res   *Result
	start time.Time
	tried map[string]bool
}

// Search re-runs the original and, when it fails the same way again,
// shrinks it stage by stage (see the package doc). The error is a harness
// error of the original's re-run, an interruption (ctx), or a bad config;
// the Result says what was found so far in every case but the last.
func Search(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Runner == nil {
		return nil, errors.New("shrink: no runner")
	}
	if len(cfg.Failing) == 0 {
		return nil, errors.New("shrink: the original run has no failing checker")
	}
	if cfg.Budget < 0 || cfg.BudgetTime < 0 {
		return nil, errors.New("shrink: the budget must not be negative")
	}
	if cfg.Confirm < 0 {
		return nil, fmt.Errorf("shrink: --confirm must be at least 1, got %d", cfg.Confirm)
	}
	cfg.Confirm = max(cfg.Confirm, 1)
	if cfg.MinNodes == 0 {
		cfg.MinNodes = 2
	}
	if cfg.LoadFloor <= 0 {
		cfg.LoadFloor = DefaultLoadFloor
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Status == nil {
		cfg.Status = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Failing = slices.Sorted(slices.Values(cfg.Failing))
	s := &search{cfg: cfg, start: cfg.Now(), tried: map[string]bool{},
		res: &Result{Original: cfg.Original, Failing: cfg.Failing, Smallest: cfg.Original, Confirm: cfg.Confirm}}

	first := s.attempt(ctx, StageOriginal, "re-run as stored", cfg.Original)
	if ctx.Err() != nil {
		return s.res, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if first.Err != nil {
		return s.res, fmt.Errorf("re-running the original: %w", first.Err)
	}
	if first.Outcome.Verdict == verify.Unknown || first.Outcome.Verdict == "" {
		return s.res, errors.New("re-running the original: verdict unknown (a checker could not decide; see its report)")
	}
	if !first.Kept {
		return s.res, nil
	}
	s.res.Reproduced = true
	for _, stage := range []func(context.Context) error{s.load, s.steps, s.clients, s.nodes} {
		if err := stage(ctx); err != nil {
			s.res.Smaller = s.res.Smallest.key() != cfg.Original.key()
			if errors.Is(err, errStop) {
				return s.res, nil
			}
			return s.res, err
		}
	}
	s.res.Smaller = s.res.Smallest.key() != cfg.Original.key()
	return s.res, nil
}

// try runs c unless it was tried before or is refused, and keeps it as
// the smallest when it still fails. It returns errStop when the budget is
// spent and the interruption when ctx ends.
func (s *search) try(ctx context.Context, stage, what string, c Candidate) (bool, error) {
	if kept, seen := s.tried[c.key()]; seen {
		return kept, nil
	}
	if s.cfg.Valid != nil {
		if err := s.cfg.Valid(c); err != nil {
			s.tried[c.key()] = false
			fmt.Fprintf(s.cfg.Out, "skipped [%s] %s: %s: %s\n", stage, what, c, oneLine(err.Error()))
			return false, nil
		}
	}
	if s.cfg.Budget > 0 && s.res.Runs+s.cfg.Confirm > s.cfg.Budget {
		s.res.Stopped = StoppedBudget
		return false, errStop
	}
	if s.cfg.BudgetTime > 0 && s.cfg.Now().Sub(s.start) >= s.cfg.BudgetTime {
		s.res.Stopped = StoppedTime
		return false, errStop
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("interrupted: %w", err)
	}
	a := s.attempt(ctx, stage, what, c)
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("interrupted: %w", err)
	}
	return a.Kept, nil
}

// attempt runs c up to Confirm times in a row, stopping at the first run
// that does not fail the same way, and records it: it is kept only when
// every one of them did.
func (s *search) attempt(ctx context.Context, stage, what string, c Candidate) Attempt {
	a := Attempt{N: len(s.res.Attempts) + 1, Stage: stage, What: what, Candidate: c, Confirm: s.cfg.Confirm}
	fmt.Fprintf(s.cfg.Status, "attempt %d [%s] running: %s: %s\n", a.N, stage, what, c)
	began := s.cfg.Now()
	for run := 1; run <= a.Confirm; run++ {
		if run > 1 {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(s.cfg.Status, "attempt %d [%s] confirming: run %d of %d\n", a.N, stage, run, a.Confirm)
		}
		s.res.Runs++
		a.Outcome, a.Err = s.cfg.Runner.Run(ctx, c)
		a.Outcome.Failing = slices.Sorted(slices.Values(a.Outcome.Failing))
		if a.Outcome.Dir != "" {
			a.Dirs = append(a.Dirs, a.Outcome.Dir)
		}
		if !failsSameWay(a.Outcome, a.Err, s.cfg.Failing) {
			break
		}
		a.Confirmed++
	}
	a.Elapsed = s.cfg.Now().Sub(began)
	a.Kept = a.Confirmed == a.Confirm
	s.tried[c.key()] = a.Kept
	if a.Kept {
		s.res.Smallest, s.res.SmallestDir = c, a.Outcome.Dir
	}
	s.res.Attempts = append(s.res.Attempts, a)
	fmt.Fprintln(s.cfg.Out, a.Line())
	return a
}

// failsSameWay: a run with no harness error, verdict fail, and exactly
// the failing checkers (sorted) of the original.
func failsSameWay(o Outcome, err error, failing []string) bool {
	return err == nil && o.Verdict == verify.Fail && slices.Equal(o.Failing, failing)
}

// with is the smallest so far with other steps.
func (s *search) with(steps []scenarios.Step) Candidate {
	c := s.res.Smallest
	c.Steps = scenarios.Regroup(steps)
	return c
}

// steps is ddmin over the smallest run's steps.
func (s *search) steps(ctx context.Context) error {
	c := s.res.Smallest.Steps
	test := func(keep []scenarios.Step) (bool, error) {
		what := fmt.Sprintf("keep %d of %d steps", len(keep), len(c))
		if dropped := minus(c, keep); len(dropped) > 0 {
			what += ": drop " + joinSteps(dropped)
		}
		return s.try(ctx, StageSteps, what, s.with(keep))
	}
	n := 2
	for len(c) >= 2 {
		parts := split(c, n)
		reduced := false
		for _, p := range parts {
			kept, err := test(p)
			if err != nil {
				return err
			}
			if kept {
				c, n, reduced = p, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range parts {
				comp := complement(parts, i)
				kept, err := test(comp)
				if err != nil {
					return err
				}
				if kept {
					c, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(c) {
				break
			}
			n = min(2*n, len(c))
		}
	}
	if len(c) == 1 {
		if _, err := test(nil); err != nil {
			return err
		}
	}
	return nil
}

// split cuts steps into n parts of nearly equal length, in order.
func split(steps []scenarios.Step, n int) [][]scenarios.Step {
	out := make([][]scenarios.Step, 0, n)
	start := 0
	for i := range n {
		end := start + (len(steps)-start)/(n-i)
		out = append(out, steps[start:end:end])
		start = end
	}
	return out
}

func complement(parts [][]scenarios.Step, skip int) []scenarios.Step {
	var out []scenarios.Step
	for i, p := range parts {
		if i != skip {
			out = append(out, p...)
		}
	}
	return out
}

// minus is what of all is not in keep (keep is a subsequence of all).
func minus(all, keep []scenarios.Step) []scenarios.Step {
	var out []scenarios.Step
	j := 0
	for _, s := range all {
		if j < len(keep) && keep[j].Equal(s) {
			j++
			continue
		}
		out = append(out, s)
	}
	return out
}

// load halves the load down to the floor.
func (s *search) load(ctx context.Context) error {
	floor := s.cfg.LoadFloor
	for {
		cur := s.res.Smallest
		if cur.Duration <= floor {
			return nil
		}
		next := max(floor, (cur.Duration / 2).Round(100*time.Millisecond))
		if next >= cur.Duration {
			return nil
		}
		c := cur
		c.Duration = next
		what := fmt.Sprintf("load %s -> %s", cur.Duration, next)
		if s.cfg.SeedPlan != nil && sameSteps(s.cfg.SeedPlan(cur.Nodes, cur.Duration), cur.Steps) {
			c.Steps = s.cfg.SeedPlan(cur.Nodes, next)
			what += " (the seed's plan at that load)"
		} else {
			c.Steps = scale(cur.Steps, next, cur.Duration)
			if len(c.Steps) > 0 {
				what += " (step times scaled)"
			}
		}
		kept, err := s.try(ctx, StageLoad, what, c)
		if err != nil || !kept {
			return err
		}
	}
}

// scale moves every step's offset by the factor num/den.
func scale(steps []scenarios.Step, num, den time.Duration) []scenarios.Step {
	out := make([]scenarios.Step, len(steps))
	for i, st := range steps {
		st.At = time.Duration(float64(st.At) * float64(num) / float64(den)).Round(time.Millisecond)
		out[i] = st
	}
	return out
}

// clients halves the clients per node down to 1.
func (s *search) clients(ctx context.Context) error {
	for {
		cur := s.res.Smallest
		if cur.Clients <= 1 {
			return nil
		}
		c := cur
		c.Clients = cur.Clients / 2
		kept, err := s.try(ctx, StageClients, fmt.Sprintf("clients/node %d -> %d", cur.Clients, c.Clients), c)
		if err != nil || !kept {
			return err
		}
	}
}

// nodes removes one node at a time, down to the minimum.
func (s *search) nodes(ctx context.Context) error {
	for {
		cur := s.res.Smallest
		if cur.Nodes <= s.cfg.MinNodes {
			return nil
		}
		gone, steps, ok := removeNode(cur.Steps, cur.Nodes)
		if !ok {
			fmt.Fprintf(s.cfg.Out, "skipped [%s] nodes %d -> %d: every node is named by a fault step\n", StageNodes, cur.Nodes, cur.Nodes-1)
			return nil
		}
		c := cur
		c.Nodes, c.Steps = cur.Nodes-1, steps
		what := fmt.Sprintf("nodes %d -> %d (%s removed", cur.Nodes, c.Nodes, gone)
		if gone != fmt.Sprintf("n%d", cur.Nodes) {
			what += ", the nodes after it renamed"
		}
		kept, err := s.try(ctx, StageNodes, what+")", c)
		if err != nil || !kept {
			return err
		}
	}
}

// removeNode picks the highest-numbered of n1..nN that no step names and
// renames the nodes after it one down; ok is false when every node is
// named by a step.
func removeNode(steps []scenarios.Step, n int) (gone string, out []scenarios.Step, ok bool) {
	named := map[int]bool{}
	for _, st := range steps {
		for _, name := range append([]string{st.Node, st.Peer}, st.Nodes...) {
			if i, isNode := nodeIndex(name); isNode {
				named[i] = true
			}
		}
	}
	victim := 0
	for i := n; i >= 1; i-- {
		if !named[i] {
			victim = i
			break
		}
	}
	if victim == 0 {
		return "", nil, false
	}
	rename := func(name string) string {
		if i, isNode := nodeIndex(name); isNode && i > victim {
			return fmt.Sprintf("n%d", i-1)
		}
		return name
	}
	out = make([]scenarios.Step, len(steps))
	for i, st := range steps {
		st.Node, st.Peer = rename(st.Node), rename(st.Peer)
		if st.Nodes != nil {
			st.Nodes = slices.Clone(st.Nodes)
			for j := range st.Nodes {
				st.Nodes[j] = rename(st.Nodes[j])
			}
		}
		out[i] = st
	}
	return fmt.Sprintf("n%d", victim), out, true
}

func nodeIndex(name string) (int, bool) {
	if !strings.HasPrefix(name, "n") {
		return 0, false
	}
	i, err := strconv.Atoi(name[1:])
	return i, err == nil && i > 0
}

// sameSteps reports whether two plans have the same steps (nil and empty
// are the same).
func sameSteps(a, b []scenarios.Step) bool { return scenarios.SameSteps(a, b) }
