package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/bench"
)

func init() { benchCommands = append(benchCommands, newBenchVerifyCmd) }

func newBenchVerifyCmd() *cobra.Command {
	var (
		cf   clusterFlags
		opts bench.VerifyOptions
	)
	cmd := &cobra.Command{
		Use:   "verify --rows N [--dsn A --dsn B ...]",
		Short: "Time range-hash convergence checking against a naive row-by-row comparison",
		Long: `Loads N identical rows of mixed column types into a table ` + bench.VerifyTable + `
on every server (plain nodes it starts, no replication; or the --dsn
servers, where the table is created and dropped again), injects a few
differences on single nodes, then times in the same run, --runs times each
and alternating, (a) verify's
range-hash comparison and (b) a naive comparison that fetches every row of
every node in key order and compares them in Go (streaming, k-way merge).
Prints both median times, the peak Go heap of each (runtime.MemStats.HeapAlloc
sampled every 5 ms), whether each found every injected difference, a floor
(every row hashed once on every node, no ranges: the least server work of
any method that hashes every row, so naive/floor bounds the speedup on this
machine), and last "speedup: X" (naive / range-hash).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Rows < 10 {
				return fmt.Errorf("--rows must be at least 10")
			}
			if opts.Runs < 1 {
				return fmt.Errorf("--runs must be at least 1")
			}
			if len(opts.DSNs) == 1 {
				return fmt.Errorf("give at least two --dsn, or none to start nodes")
			}
			if len(opts.DSNs) == 0 {
				cfg, err := cf.config()
				if err != nil {
					return err
				}
				opts.Config = cfg
			}
			opts.Progress = cmd.OutOrStdout()
			res, err := bench.Verify(cmd.Context(), opts)
			if err != nil {
				return err
			}
			printBenchVerify(cmd, res)
			if !res.AllFound {
				return &exitError{code: exitFail, err: fmt.Errorf("a method missed an injected difference or reported another")}
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().Int64Var(&opts.Rows, "rows", 1_000_000, "rows per node")
	cmd.Flags().IntVar(&opts.Runs, "runs", 3, "measurements of each method, alternating; medians are compared")
	cmd.Flags().StringArrayVar(&opts.DSNs, "dsn", nil, "use these servers instead of starting nodes (two or more)")
	cmd.Flags().BoolVar(&opts.SharedHost, "shared-host", false, "with --dsn: the servers share one machine's cores (always so for the nodes the bench starts)")
	return cmd
}

// printBenchVerify prints the figures after the per-run lines, last
// "speedup: X".
func printBenchVerify(cmd *cobra.Command, res bench.VerifyResult) {
	out := cmd.OutOrStdout()
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	mb := func(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	found := func(f bench.Found) string {
		return fmt.Sprintf("%d/%d injected (%d other)", f.Injected, f.Want, f.Other)
	}
	fmt.Fprintf(out, "range-hash median: %s, peak heap %s, found %s\n", ms(res.RangeHashMedian), mb(res.RangeHashPeakHeap), found(res.RangeHashFound))
	fmt.Fprintf(out, "naive (fetch all rows in key order, compare in Go) median: %s, peak heap %s, found %s\n", ms(res.NaiveMedian), mb(res.NaivePeakHeap), found(res.NaiveFound))
	fmt.Fprintln(out, "peak heap = max runtime.MemStats.HeapAlloc sampled every 5 ms (after a GC at start)")
	fmt.Fprintf(out, "floor (every row hashed once by hash_record_extended on every node, no ranges) median: %s; no method that hashes every row on the servers beats naive by more than %.2fx here\n",
		ms(res.FloorMedian), res.FloorBound)
	fmt.Fprintf(out, "all injected differences found by both, nothing else: %t\n", res.AllFound)
	fmt.Fprintf(out, "speedup: %.2f\n", res.Speedup)
}
