package workload

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stepFunc runs one op of a client (it records it itself).
type stepFunc func(ctx context.Context)

// generated is a workload whose client draws each op from its own
// generator (made once per client: it may number the client's ops); the
// generator is told the node the client talks to.
type generated interface {
	generator(prefix, process string) func(node string, r *rand.Rand) opSpec
}

// runGenerated runs w's generators on cfg's clients.
func runGenerated(ctx context.Context, cfg RunConfig, w generated) (Stats, error) {
	return runClients(ctx, cfg, func(c *client) stepFunc {
		gen := w.generator(c.cfg.TxnPrefix, c.process)
		return func(ctx context.Context) { c.do(ctx, gen(c.node().Name, c.rng)) }
	})
}

// runClients starts cfg.ClientsPerNode clients on every node (and on each
// node cfg.Joined brings, once it comes), each running the step newStep
// makes for it until ctx is done, the duration passed or the op budget is
// spent. It waits for every client to finish its op in
// flight and returns the totals.
func runClients(ctx context.Context, cfg RunConfig, newStep func(c *client) stepFunc) (Stats, error) {
	if err := cfg.setDefaults(); err != nil {
		return Stats{}, err
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	stats := newCounters(cfg.Nodes)
	total := len(cfg.Nodes) * cfg.ClientsPerNode
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(total) / cfg.Rate * float64(time.Second))
	}
	var budget atomic.Int64
	budget.Store(int64(cfg.OpCount))
	log := slog.Default().With("component", "workload")

	stopProgress := startProgress(cfg.Progress, stats)
	defer stopProgress()

	var wg sync.WaitGroup
	// start runs client i of nodes[at] (its failover list is nodes).
	start := func(nodes []Target, at, i int) {
		process := ProcessID(nodes[at].Name, i)
		c := &client{process: process, nodes: nodes, at: at, rng: ClientRand(cfg.Seed, process), cfg: &cfg, stats: stats, log: log}
		step := newStep(c)
		stats.clients(nodes[at].Name, +1)
		wg.Go(func() {
			defer func() { stats.clients(c.node().Name, -1); c.dropConn() }()
			c.loop(ctx, step, interval, &budget)
		})
	}
	for at := range cfg.Nodes {
		for i := range cfg.ClientsPerNode {
			start(cfg.Nodes, at, i)
		}
	}
	if cfg.Joined != nil {
		// Counted in wg itself, so that Wait never races an Add.
		wg.Go(func() {
			nodes := slices.Clone(cfg.Nodes)
			for {
				select {
				case <-ctx.Done():
					return
				case t, ok := <-cfg.Joined:
					if !ok {
						return
					}
					nodes = append(slices.Clip(nodes), t)
					for i := range cfg.ClientsPerNode {
						start(nodes, len(nodes)-1, i)
					}
				}
			}
		})
	}
	wg.Wait()
	return stats.snapshot(), nil
}

// loop runs step until ctx is done, the client cannot reach a node or
// the op budget (with OpCount) is spent, one op every interval (0: back
// to back).
func (c *client) loop(ctx context.Context, step stepFunc, interval time.Duration, budget *atomic.Int64) {
	next := time.Now()
	for ctx.Err() == nil {
		if interval > 0 {
			if !sleepUntil(ctx, next) {
				return
			}
			next = next.Add(interval)
			// A client more than a second behind its schedule (a slow
			// node) starts over instead of bursting.
			if lag := time.Since(next); lag > time.Second {
				next = time.Now()
			}
		}
		if c.cfg.OpCount > 0 && budget.Add(-1) < 0 {
			return
		}
		if !c.ensureConn(ctx) {
			return
		}
		step(ctx)
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// startProgress calls progress about once a second until the returned stop.
func startProgress(progress func(Stats), stats *counters) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				progress(stats.snapshot())
			}
		}
	}()
	return func() { close(done); <-finished }
}
