package shrink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/repro"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// Options are how Shrink searches and where its runs go.
type Options struct {
	OutDir     string        // parent of every attempt's run directory (default "runs")
	Budget     int           // most runs, the original's re-run included (0: no limit)
	BudgetTime time.Duration // no attempt starts after this (0: no limit)
	LoadFloor  time.Duration // shortest load tried (default DefaultLoadFloor)
	// Confirm is how many runs in a row a candidate must fail the same
	// way to count (0: 1).
	Confirm int
	// Out receives one line per attempt; Status a line as each starts.
	Out, Status io.Writer
	// Progress receives each run's own progress lines (default io.Discard).
	Progress io.Writer
	Logger   *slog.Logger
	// Run runs one scenario; scenarios.Run by default.
	Run repro.RunFunc
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Prepared is a stored failing run ready to be shrunk: the search's
// configuration and how to name its smallest run.
type Prepared struct {
	Recorded *repro.Recorded
	Spec     *scenarios.Spec
	Config   Config
}

// Prepare reads the failing run in dir and builds the search without
// running anything. Bad input (no run directory, a run that did not fail,
// a scenario the catalog does not have) is an error.
func Prepare(dir string, opts Options) (*Prepared, error) {
	if opts.Budget < 0 || opts.BudgetTime < 0 {
		return nil, errors.New("shrink: --budget and --budget-time must not be negative")
	}
	if opts.Confirm < 0 {
		return nil, fmt.Errorf("shrink: --confirm must be at least 1, got %d", opts.Confirm)
	}
	if opts.LoadFloor != 0 && opts.LoadFloor < time.Second {
		return nil, fmt.Errorf("shrink: the load floor must be at least 1s, got %s", opts.LoadFloor)
	}
	rec, err := repro.Load(dir)
	if err != nil {
		return nil, err
	}
	if rec.Verdict != verify.Fail || len(rec.Failed) == 0 {
		return nil, fmt.Errorf("shrink %s: not a failing run (verdict %s): nothing to shrink", dir, rec.Verdict)
	}
	spec, err := scenarios.Lookup(rec.Scenario)
	if err != nil {
		return nil, fmt.Errorf("shrink %s: %w", dir, err)
	}
	clients := rec.ClientsPerNode
	if clients == 0 {
		clients = spec.ClientsPerNode
	}
	base := rec.Options()
	base.OutDir, base.Progress, base.Logger = opts.OutDir, opts.Progress, opts.Logger
	if base.Progress == nil {
		base.Progress = io.Discard
	}
	run := opts.Run
	if run == nil {
		run = scenarios.Run
	}
	original := Candidate{Steps: rec.Steps, Duration: rec.Duration, Clients: clients, Nodes: rec.Nodes}
	seedPlan := func(nodes int, load time.Duration) []scenarios.Step {
		return scenarios.NewPlan(spec, rec.Seed, nodes, load).Steps
	}
	valid := func(c Candidate) error {
		o := base
		o.Nodes, o.Duration = c.Nodes, c.Duration
		return scenarios.Validate(scenarios.WithPlan(spec, c.Steps, c.Clients), o)
	}
	if err := valid(original); err != nil {
		return nil, fmt.Errorf("shrink %s: %w", dir, err)
	}
	runner := RunnerFunc(func(ctx context.Context, c Candidate) (Outcome, error) {
		o := base
		o.Nodes, o.Duration = c.Nodes, c.Duration
		out, err := run(ctx, scenarios.WithPlan(spec, c.Steps, c.Clients), o)
		if out == nil {
			if err == nil {
				err = errors.New("the run made no run directory")
			}
			return Outcome{Verdict: verify.Unknown}, err
		}
		res := Outcome{Verdict: out.Verdict, Dir: out.Dir}
		if out.Run != nil {
			for _, ch := range out.Run.Checkers {
				if ch.Problem() {
					res.Failing = append(res.Failing, ch.Name)
				}
			}
		}
		return res, err
	})
	cfg := Config{Original: original, Failing: rec.Failed, MinNodes: max(spec.MinNodes, harness.MinNodes),
		LoadFloor: opts.LoadFloor, Budget: opts.Budget, Confirm: opts.Confirm, BudgetTime: opts.BudgetTime, SeedPlan: seedPlan,
		Valid: valid, Runner: runner, Out: opts.Out, Status: opts.Status, Now: opts.Now}
	return &Prepared{Recorded: rec, Spec: spec, Config: cfg}, nil
}

// Run searches (Search) and names the smallest failing run's command.
func (p *Prepared) Run(ctx context.Context) (*Result, error) {
	res, err := Search(ctx, p.Config)
	if res != nil && res.Reproduced {
		res.Command, res.Plain = p.Command(res.Smallest, res.SmallestDir)
	}
	return res, err
}

// Command is the command line that runs c again: `spockchaos run ...` when
// c is the seed's own plan with the scenario's clients per node (flags say
// everything), else `spockchaos repro DIR` of the run that ran it.
func (p *Prepared) Command(c Candidate, dir string) (cmd string, plain bool) {
	rec := p.Recorded
	seedSteps := scenarios.NewPlan(p.Spec, rec.Seed, c.Nodes, c.Duration).Steps
	if c.Clients == p.Spec.ClientsPerNode && sameSteps(seedSteps, c.Steps) {
		opts := scenarios.Options{Seed: rec.Seed, Nodes: c.Nodes, Flavor: rec.Flavor, Image: rec.Image, PG: rec.PG, Recovery: rec.Recovery, Duration: c.Duration,
			Settings: rec.Settings}
		return scenarios.ReplayCommand(p.Spec, opts), true
	}
	return "spockchaos repro " + shellQuote(dir), false
}

// Shrink reads the failing run in dir and searches for a smaller run that
// fails the same way (see the package doc).
func Shrink(ctx context.Context, dir string, opts Options) (*Result, error) {
	p, err := Prepare(dir, opts)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// Summary is the smallest failing run against the original, in one line.
func (r *Result) Summary() string {
	o, s := r.Original, r.Smallest
	confirmed := ""
	if r.Confirm > 1 {
		confirmed = fmt.Sprintf(" (each kept candidate failed so %d runs in a row)", r.Confirm)
	}
	return fmt.Sprintf("smallest failing run: %d of %d fault steps, load %s (was %s), %d clients/node (was %d), %d nodes (was %d); failing %s%s; %d runs",
		len(s.Steps), len(o.Steps), s.Duration, o.Duration, s.Clients, o.Clients, s.Nodes, o.Nodes, strings.Join(r.Failing, ","), confirmed, r.Runs)
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || slices.Contains([]rune("-_./+:=@,"), r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
