package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/bench"
)

func init() { benchCommands = append(benchCommands, newBenchWorkloadCmd) }

func newBenchWorkloadCmd() *cobra.Command {
	var (
		cf      clusterFlags
		opts    bench.WorkloadOptions
		profile string
	)
	cmd := &cobra.Command{
		Use:   "workload",
		Short: "Ledger (K=1) insert throughput with history recording against pgbench, same cluster",
		Long: `Starts one cluster, then runs (a) the ledger workload with K=1 and history
recording on (to a file) and (b) pgbench with an equivalent one-row insert
script (prepared, -n), with the same clients per node and the same duration,
alternating for --rounds rounds. pgbench runs inside the node containers, one process per
node, run in the next node's container so that it crosses the run network. Prints both
median throughputs and last "ratio: X" (ours / pgbench); the target is >= 0.9.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Clients < 1 || opts.Duration < time.Second || opts.Rounds < 1 {
				return fmt.Errorf("--clients and --rounds must be >= 1 and --duration >= 1s")
			}
			cfg, err := cf.config()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			opts.Config, opts.CPUProfile, opts.Progress = cfg, profile, out
			res, err := bench.Workload(cmd.Context(), opts)
			if err != nil {
				return err
			}
			path := "published ports"
			if res.Direct {
				path = "container addresses"
			}
			fmt.Fprintf(out, "spockchaos ledger K=1 (history on, %s, GOMAXPROCS=%d, %d nodes x %d clients, %s) median: %.0f ops/s\n",
				path, res.GOMAXPROCS, res.Nodes, res.Clients, res.Duration, res.LedgerMedian)
			fmt.Fprintf(out, "pgbench one-row insert (prepared, from the next node's container, %d nodes x %d clients, %s) median: %.0f tps\n", res.Nodes, res.Clients, res.Duration, res.PgbenchMedian)
			if res.PgbenchMedian <= 0 {
				return fmt.Errorf("pgbench reported no throughput")
			}
			fmt.Fprintf(out, "ratio: %.2f\n", res.Ratio)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().DurationVar(&opts.Duration, "duration", 10*time.Second, "duration of each measurement")
	cmd.Flags().IntVar(&opts.Clients, "clients", 2, "clients per node (both sides)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the spockchaos rounds to this file")
	cmd.Flags().IntVar(&opts.Rounds, "rounds", 3, "alternating rounds of both measurements; medians are compared")
	cmd.Flags().BoolVar(&opts.Direct, "direct", true, "connect our clients to the containers' addresses on the run network, the path pgbench uses; false: through the published ports (docker's proxy)")
	return cmd
}
