package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/bench"
)

func init() { benchCommands = append(benchCommands, newBenchRTOCmd) }

func newBenchRTOCmd() *cobra.Command {
	var (
		cf     clusterFlags
		sizes  string
		rows   int
		repeat int
	)
	cmd := &cobra.Command{
		Use:   "rto",
		Short: "Time kill-to-level recovery under load against applying the same transactions alone",
		Long: `For each size N of --sizes, starts a pglogical cluster under load (single-row
ledger writes on every node but n1, all along) with the recovery slot keeper
running as in a scenario, lags n3 behind n1, commits N ledger transactions
(--rows rows each) on n1 that only the other survivors receive, kills n1 and
runs reference recovery while the load goes on (it pauses the keeper, as in
a scenario). Then, on the same cluster, the floor: exactly the recovered
transactions applied on n3 with nothing to decode, the keeper paused too.
Prints per size the kill-to-level time, its detect part (the docker kill's
confirmation) and recovery part (the reference recovery, start to every
survivor level), the decode and apply parts of the recovery, the floor, the
ratios recovery / floor and kill-to-level / floor. Each size runs --repeat
times, each on a fresh cluster; a line per size gives the median ratios,
and last "ratio: X" is the middle size's median recovery / floor. Fails (exit 1) unless every size recovered exactly N transactions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ns, err := parseSizes(sizes)
			if err != nil {
				return err
			}
			if rows < 1 {
				return fmt.Errorf("--rows must be at least 1")
			}
			if repeat < 1 {
				return fmt.Errorf("--repeat must be at least 1")
			}
			cfg, err := cf.config()
			if err != nil {
				return err
			}
			if cfg.Flavor.Name() != "pglogical" {
				return fmt.Errorf("bench rto builds its lag with pglogical: --flavor must be pglogical")
			}
			if cfg.Nodes < 3 {
				return fmt.Errorf("bench rto needs at least 3 nodes (one killed, one lagging, one source)")
			}
			out := cmd.OutOrStdout()
			res, err := bench.RTO(cmd.Context(), bench.RTOOptions{Config: cfg, Sizes: ns, Rows: rows, Repeat: repeat, Progress: out})
			if err != nil {
				return err
			}
			ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
			fmt.Fprintf(out, "%8s %10s %12s %8s %9s %8s %8s %9s %8s %6s %11s\n", "txns", "recovered", "kill->level", "detect", "recovery", "decode", "apply", "decoded", "floor", "ratio", "kill-ratio")
			incomplete := false
			for _, s := range res.Sizes {
				fmt.Fprintf(out, "%8d %10d %12s %8s %9s %8s %8s %9d %8s %6.2f %11.2f\n", s.Txns, s.Recovered, ms(s.KillToLevel), ms(s.Detect), ms(s.Recovery), ms(s.Decode), ms(s.Apply), s.Decoded, ms(s.Floor), s.Ratio, s.KillRatio)
				incomplete = incomplete || s.Recovered != int64(s.Txns)
			}
			for _, s := range res.Sizes {
				var parts []string
				for _, p := range s.Phases {
					parts = append(parts, fmt.Sprintf("%s %s", p.Name, ms(p.End.Sub(p.Start))))
				}
				fmt.Fprintf(out, "%d transactions, recovery steps: %s\n", s.Txns, strings.Join(parts, ", "))
			}
			if incomplete {
				return &exitError{code: exitFail, err: fmt.Errorf("a size did not recover exactly its transactions")}
			}
			for _, m := range res.Medians {
				fmt.Fprintf(out, "%d transactions, median of %d runs: ratio %.2f, kill-ratio %.2f\n", m.Txns, m.Runs, m.Ratio, m.KillRatio)
			}
			fmt.Fprintf(out, "ratio: %.2f\n", res.Ratio)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&sizes, "sizes", "100,1000,10000", "comma-separated numbers of the victim's transactions the lagging survivor lacks")
	cmd.Flags().IntVar(&rows, "rows", 1, "rows per transaction")
	cmd.Flags().IntVar(&repeat, "repeat", 3, "runs per size, each on a fresh cluster; the ratios are their medians")
	return cmd
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--sizes: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
