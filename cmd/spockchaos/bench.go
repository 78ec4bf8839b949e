package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/bench"
)

func init() {
	commands = append(commands, newBenchCmd)
	benchCommands = append(benchCommands, newBenchUpCmd)
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks that compare against a baseline in the same run",
	}
	for _, newCmd := range benchCommands {
		cmd.AddCommand(newCmd())
	}
	return groupCommand(cmd)
}

func newBenchUpCmd() *cobra.Command {
	var (
		cf   clusterFlags
		runs int
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Time bring-up of a ready cluster against bare containers of the same image",
		Long: `Times, runs times each and alternating, (a) harness.Start until the cluster is
ready (every subscription replicating and a barrier passed) and (b) the same
number of bare containers of the same image until each accepts connections.
The image must be present (it is built first otherwise, outside the timing).
Prints both medians and last "ratio: X" (cluster / baseline).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runs < 1 {
				return fmt.Errorf("--runs must be at least 1")
			}
			cfg, err := cf.config()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			res, err := bench.Up(cmd.Context(), bench.UpOptions{Config: cfg, Runs: runs, Progress: out})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "cluster (%s, %d nodes, ready) median: %s\n", res.Flavor, res.Nodes, res.ClusterMedian.Round(time.Millisecond))
			fmt.Fprintf(out, "baseline (%d bare containers, accepting) median: %s\n", res.Nodes, res.BaselineMedian.Round(time.Millisecond))
			fmt.Fprintf(out, "ratio: %.2f\n", res.Ratio)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().IntVar(&runs, "runs", 3, "repetitions of each measurement")
	return cmd
}
