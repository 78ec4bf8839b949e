package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
)

// VerifyTable is the table Verify creates, loads and drops again on every
// server: mixed column types, bigint key.
const VerifyTable = "spockchaos_bench_verify"

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Config is the plain nodes to start (no replication) when DSNs is
	// empty.
	Config harness.Config
	// DSNs, two or more, are servers to use instead of starting nodes.
	DSNs []string
	// Rows is the number of rows per server (>= 10).
	Rows int64
	// Runs is the number of measurements of each method (>= 1).
	Runs int
	// SharedHost says the DSNs servers share one machine's cores; the
	// nodes Verify starts always do.
	SharedHost bool
	// Progress receives a line after loading, after injecting and per
	// run; may be nil.
	Progress io.Writer
}

// VerifyRun is one run of every method.
type VerifyRun struct {
	RangeHash, Naive, Floor time.Duration
}

// Found is how many of the injected differences a method reported.
type Found struct {
	// Injected of Want injected differences were reported, and Other
	// keys that were not injected.
	Injected, Want, Other int
}

// VerifyResult is what Verify measured.
type VerifyResult struct {
	Rows int64
	// Servers is the number of servers compared, Differences the number
	// of differences injected on single servers.
	Servers, Differences int
	Runs                 []VerifyRun
	// The medians over Runs: verify's range-hash comparison, the naive
	// one (every row of every server fetched in key order and merged in
	// Go) and the floor (every row hashed once on every server, no
	// ranges: the least server work of any method that hashes every row).
	RangeHashMedian, NaiveMedian, FloorMedian time.Duration
	// RangeHashPeakHeap and NaivePeakHeap are the largest Go heap
	// (runtime.MemStats.HeapAlloc, sampled every 5 ms after a GC at
	// start) over the runs of each method, in bytes.
	RangeHashPeakHeap, NaivePeakHeap uint64
	// RangeHashFound and NaiveFound are what each method's last run
	// reported.
	RangeHashFound, NaiveFound Found
	// AllFound says both methods reported exactly the injected keys.
	AllFound bool
	// Speedup is NaiveMedian / RangeHashMedian; FloorBound is
	// NaiveMedian / FloorMedian, the most any method that hashes every
	// row on the servers can beat naive by here.
	Speedup, FloorBound float64
}

// Verify loads Rows identical rows into VerifyTable on every server,
// injects a few differences on single servers, then times, Runs times
// each and alternating, the range-hash comparison, the naive one and the
// floor. The table is dropped again at the end.
func Verify(ctx context.Context, opts VerifyOptions) (VerifyResult, error) {
	switch {
	case opts.Rows < 10:
		return VerifyResult{}, fmt.Errorf("bench verify: Rows must be at least 10")
	case opts.Runs < 1:
		return VerifyResult{}, fmt.Errorf("bench verify: Runs must be at least 1")
	case len(opts.DSNs) == 1:
		return VerifyResult{}, fmt.Errorf("bench verify: give at least two DSNs, or none to start nodes")
	}
	if len(opts.DSNs) > 0 {
		return compareMethods(ctx, verify.TargetsFromDSNs(opts.DSNs), opts, opts.SharedHost)
	}
	cluster, err := harness.StartNodes(ctx, opts.Config)
	if err != nil {
		return VerifyResult{}, err
	}
	defer func() {
		if err := cluster.Remove(context.WithoutCancel(ctx)); err != nil {
			slog.Error("remove benchmark nodes", "run", cluster.RunID, "err", err)
		}
	}()
	var targets []verify.Target
	for _, n := range cluster.Nodes {
		targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
	}
	return compareMethods(ctx, targets, opts, true)
}

// compareMethods loads and alters the table on targets, runs the methods
// and drops the table again.
func compareMethods(ctx context.Context, targets []verify.Target, opts VerifyOptions, sharedHost bool) (res VerifyResult, err error) {
	out := progress(opts.Progress)
	t0 := time.Now()
	err = loadTable(ctx, targets, opts.Rows)
	defer func() {
		if dropErr := dropTable(context.WithoutCancel(ctx), targets); err == nil && dropErr != nil {
			err = fmt.Errorf("drop %s: %w", VerifyTable, dropErr)
		}
	}()
	if err != nil {
		return VerifyResult{}, err
	}
	fmt.Fprintf(out, "loaded %d rows on each of %d nodes in %s\n", opts.Rows, len(targets), ms(time.Since(t0)))
	diffs := differences(opts.Rows, len(targets))
	want, err := inject(ctx, targets, diffs)
	if err != nil {
		return VerifyResult{}, err
	}
	fmt.Fprintf(out, "injected %d differences on single nodes\n", len(diffs))
	res = VerifyResult{Rows: opts.Rows, Servers: len(targets), Differences: len(diffs)}
	var ours, naive map[int64]bool
	var oursTimes, naiveTimes, floorTimes []time.Duration
	// Alternate the methods so that a busy machine slows both alike.
	for i := range opts.Runs {
		d, peak, err := measure(func() error {
			var err error
			ours, err = rangeHashCompare(ctx, targets, sharedHost)
			return err
		})
		if err != nil {
			return VerifyResult{}, fmt.Errorf("range-hash verification: %w", err)
		}
		oursTimes, res.RangeHashPeakHeap = append(oursTimes, d), max(res.RangeHashPeakHeap, peak)
		n, npeak, err := measure(func() error {
			var err error
			naive, err = naiveCompare(ctx, targets)
			return err
		})
		if err != nil {
			return VerifyResult{}, fmt.Errorf("naive verification: %w", err)
		}
		naiveTimes, res.NaivePeakHeap = append(naiveTimes, n), max(res.NaivePeakHeap, npeak)
		f, _, err := measure(func() error { return hashEveryRowOnce(ctx, targets, sharedHost) })
		if err != nil {
			return VerifyResult{}, fmt.Errorf("floor: %w", err)
		}
		floorTimes = append(floorTimes, f)
		res.Runs = append(res.Runs, VerifyRun{RangeHash: d, Naive: n, Floor: f})
		fmt.Fprintf(out, "run %d: range-hash %s, naive %s, floor %s\n", i+1, ms(d), ms(n), ms(f))
	}
	res.RangeHashMedian, res.NaiveMedian, res.FloorMedian = median(oursTimes), median(naiveTimes), median(floorTimes)
	res.RangeHashFound, res.NaiveFound = found(want, ours), found(want, naive)
	res.AllFound = sameKeys(want, ours) && sameKeys(want, naive)
	res.Speedup = res.NaiveMedian.Seconds() / res.RangeHashMedian.Seconds()
	res.FloorBound = res.NaiveMedian.Seconds() / res.FloorMedian.Seconds()
	return res, nil
}
