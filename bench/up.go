package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// UpOptions configure Up.
type UpOptions struct {
	// Config is the cluster to bring up; its RunID is ignored (every
	// repetition is a fresh run).
	Config harness.Config
	// Runs is the number of repetitions of each measurement (>= 1).
	Runs int
	// Progress receives one line per repetition; may be nil.
	Progress io.Writer
}

// UpRun is one repetition of both measurements.
type UpRun struct {
	// Cluster is harness.Start until the cluster was ready (every
	// subscription replicating and a barrier passed).
	Cluster time.Duration
	// Baseline is harness.StartNodes: the same number of bare containers
	// of the same image until each accepted connections.
	Baseline time.Duration
}

// UpResult is what Up measured.
type UpResult struct {
	Flavor string
	Nodes  int
	Runs   []UpRun
	// ClusterMedian and BaselineMedian are the medians over Runs.
	ClusterMedian, BaselineMedian time.Duration
	// Ratio is ClusterMedian / BaselineMedian.
	Ratio float64
}

// Up times, Runs times each and alternating, bring-up of a ready cluster
// and of bare containers of the same image. The image is built or found
// first, outside the timing.
func Up(ctx context.Context, opts UpOptions) (UpResult, error) {
	if opts.Runs < 1 {
		return UpResult{}, fmt.Errorf("bench up: Runs must be at least 1, got %d", opts.Runs)
	}
	cfg, out := opts.Config, progress(opts.Progress)
	warm, err := harness.StartNodes(ctx, cfg)
	if err != nil {
		return UpResult{}, err
	}
	if err := warm.Remove(ctx); err != nil {
		return UpResult{}, err
	}
	res := UpResult{Flavor: cfg.Flavor.Name(), Nodes: cfg.Nodes}
	var cluster, baseline []time.Duration
	for i := range opts.Runs {
		d, err := timeStart(ctx, cfg, harness.Start)
		if err != nil {
			return UpResult{}, err
		}
		b, err := timeStart(ctx, cfg, harness.StartNodes)
		if err != nil {
			return UpResult{}, err
		}
		cluster, baseline = append(cluster, d), append(baseline, b)
		res.Runs = append(res.Runs, UpRun{Cluster: d, Baseline: b})
		fmt.Fprintf(out, "run %d: cluster ready %s, bare containers %s\n", i+1, ms(d), ms(b))
	}
	res.ClusterMedian, res.BaselineMedian = median(cluster), median(baseline)
	res.Ratio = res.ClusterMedian.Seconds() / res.BaselineMedian.Seconds()
	return res, nil
}

// timeStart times start until it returns, then removes what it started.
func timeStart(ctx context.Context, cfg harness.Config, start func(context.Context, harness.Config) (*harness.Cluster, error)) (time.Duration, error) {
	cfg.RunID = "" // a fresh run each time
	t0 := time.Now()
	c, err := start(ctx, cfg)
	d := time.Since(t0)
	if err != nil {
		return 0, err
	}
	return d, c.Remove(ctx)
}
