package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/harness"
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
	return cmd
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
			ctx := cmd.Context()
			// Build or find the image outside the timed part.
			warm, err := harness.StartNodes(ctx, cfg)
			if err != nil {
				return err
			}
			if err := warm.Remove(ctx); err != nil {
				return err
			}
			var cluster, baseline []time.Duration
			for i := range runs {
				d, err := timeStart(ctx, cfg, harness.Start)
				if err != nil {
					return err
				}
				cluster = append(cluster, d)
				b, err := timeStart(ctx, cfg, harness.StartNodes)
				if err != nil {
					return err
				}
				baseline = append(baseline, b)
				fmt.Fprintf(cmd.OutOrStdout(), "run %d: cluster ready %s, bare containers %s\n", i+1, d.Round(time.Millisecond), b.Round(time.Millisecond))
			}
			mc, mb := median(cluster), median(baseline)
			fmt.Fprintf(cmd.OutOrStdout(), "cluster (%s, %d nodes, ready) median: %s\n", cfg.Flavor.Name(), cfg.Nodes, mc.Round(time.Millisecond))
			fmt.Fprintf(cmd.OutOrStdout(), "baseline (%d bare containers, accepting) median: %s\n", cfg.Nodes, mb.Round(time.Millisecond))
			fmt.Fprintf(cmd.OutOrStdout(), "ratio: %.2f\n", mc.Seconds()/mb.Seconds())
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().IntVar(&runs, "runs", 3, "repetitions of each measurement")
	return cmd
}

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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
