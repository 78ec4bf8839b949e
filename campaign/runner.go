package campaign

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spockchaos/spockchaos/scenarios"
)

// RunFunc runs one scenario; scenarios.Run in production, a fake in the
// unit specs.
type RunFunc func(ctx context.Context, spec *scenarios.Spec, opts scenarios.Options) (*scenarios.Outcome, error)

// Options are how a campaign runs (not what: that is the Matrix).
type Options struct {
	// Shard is the part of the matrix to run (zero: all of it).
	Shard Shard
	// Parallel is how many cells run at once (default 1).
	Parallel int
	// Progress receives one line per finished cell (default io.Discard).
	Progress io.Writer
	// Logger receives the cells' structured logs (default slog.Default()).
	Logger *slog.Logger
	// Run runs one cell (default scenarios.Run).
	Run RunFunc
}

// Stats are what one invocation did, and the bookkeeping figure.
type Stats struct {
	// Skipped cells were already done (resume); Ran were run now.
	Skipped, Ran int
	// Interrupted is set when ctx ended before every cell ran.
	Interrupted bool
	// Wall is the invocation's wall time, from start to the last report
	// written; CellTime is the sum of the cells' own run times.
	Wall, CellTime time.Duration
	Parallel       int
}

// Overhead is Wall against CellTime spread over the parallel workers:
// 1.00 means the campaign added nothing to its runs.
func (s Stats) Overhead() float64 {
	if s.CellTime <= 0 {
		return 0
	}
	return s.Wall.Seconds() / (s.CellTime.Seconds() / float64(max(1, s.Parallel)))
}

// Run runs the cells of m (those of opts.Shard) that dir does not hold
// yet, one after another (or opts.Parallel at once), writing each cell's
// run directory under dir/cells/<id>/, then campaign.json and the reports.
// Re-running it with the same matrix and dir resumes: done cells are
// skipped, interrupted ones run again. Cancelling ctx (Ctrl-C) stops the
// running cells cleanly (each run removes its cluster and writes what it
// has) and leaves them pending. The error is for the campaign itself
// (bad matrix, unwritable directory); cell failures are in the Campaign.
func Run(ctx context.Context, dir string, m Matrix, opts Options) (*Campaign, Stats, error) {
	start := time.Now()
	m = m.Normalize()
	opts = opts.withDefaults()
	st := Stats{Parallel: opts.Parallel}
	if err := m.Validate(); err != nil {
		return nil, st, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, st, fmt.Errorf("create campaign folder %s: %w", dir, err)
	}
	if err := checkSameCampaign(dir, m); err != nil {
		return nil, st, err
	}
	camp, err := Index(dir, m, opts.Shard)
	if err != nil {
		return nil, st, err
	}
	selected := map[string]bool{}
	for _, c := range m.ShardCells(opts.Shard) {
		selected[c.ID()] = true
	}
	var todo []int // positions in camp.Cells
	for i, c := range camp.Cells {
		switch {
		case !selected[c.ID]:
		case c.Done():
			st.Skipped++
		default:
			todo = append(todo, i)
		}
	}
	if err := writeIndex(dir, camp); err != nil {
		return nil, st, err
	}
	prog := newProgress(opts.Progress, dir, len(todo)+st.Skipped, st.Skipped, opts.Parallel)
	part := ""
	if !opts.Shard.Whole() {
		part = fmt.Sprintf(" (shard %s of %d cells)", opts.Shard, len(m.Cells()))
	}
	fmt.Fprintf(opts.Progress, "campaign %s: %d cells%s, %d done before, %d to run, into %s\n",
		camp.Fingerprint, len(todo)+st.Skipped, part, st.Skipped, len(todo), dir)

	var mu sync.Mutex // camp, st, prog, campaign.json
	var failure error
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range opts.Parallel {
		wg.Go(func() {
			for i := range jobs {
				res, took, ok := runCell(ctx, dir, m, camp.Cells[i].Cell, opts)
				mu.Lock()
				if ok {
					res.Shard = opts.Shard.String()
					camp.Cells[i] = res
					st.Ran++
					st.CellTime += took
					if err := writeCell(dir, res); err != nil && failure == nil {
						failure = err
					}
					if err := writeIndex(dir, camp); err != nil && failure == nil {
						failure = err
					}
					prog.cellDone(res, took)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, i := range todo {
		select {
		case <-ctx.Done():
			break feed
		case jobs <- i:
		}
	}
	close(jobs)
	wg.Wait()
	st.Interrupted = st.Ran < len(todo)
	if failure != nil {
		return camp, st, failure
	}
	if err := WriteReports(dir, camp); err != nil {
		return camp, st, err
	}
	st.Wall = time.Since(start)
	return camp, st, nil
}

func (o Options) withDefaults() Options {
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Run == nil {
		o.Run = scenarios.Run
	}
	return o
}

// runCell runs cell c; ok is false when ctx ended first (the cell is then
// left pending: its interrupted run directory stays, without cell.json).
func runCell(ctx context.Context, dir string, m Matrix, c Cell, opts Options) (CellResult, time.Duration, bool) {
	if ctx.Err() != nil {
		return CellResult{}, 0, false
	}
	spec, err := scenarios.Lookup(c.Scenario)
	if err != nil { // Validate saw it exist; the catalog does not change mid-campaign
		return CellResult{}, 0, false
	}
	cellDir := CellDir(dir, c.ID())
	ro := m.RunOptions(c)
	ro.OutDir, ro.Logger = cellDir, opts.Logger.With("cell", c.ID())
	ro.Progress = io.Discard
	if err := os.MkdirAll(cellDir, 0o755); err == nil {
		if f, err := os.Create(filepath.Join(cellDir, ProgressLog)); err == nil {
			defer f.Close()
			ro.Progress = f
		}
	}
	started := time.Now()
	out, runErr := opts.Run(ctx, spec, ro)
	took := time.Since(started)
	if ctx.Err() != nil {
		return CellResult{}, took, false
	}
	res := resultOf(c, spec, out, runErr, started, took, dir)
	if h, err := os.Hostname(); err == nil {
		res.Host = h
	}
	return res, took, true
}
