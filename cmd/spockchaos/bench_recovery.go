package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/bench"
)

func init() { benchCommands = append(benchCommands, newBenchRecoveryCmd) }

func newBenchRecoveryCmd() *cobra.Command {
	var (
		cf   clusterFlags
		txns int
		rows int
	)
	cmd := &cobra.Command{
		Use:   "recovery",
		Short: "Time reference recovery of transactions one survivor lacks",
		Long: `Starts a pglogical cluster with the ledger table and recovery slots, lags
n3's feed from n1, commits --txns ledger transactions (--rows rows each) on
n1 that only the other survivors receive, kills n1, then times reference
recovery of n1 on the survivors. The run fails (exit 1) unless exactly
--txns transactions are recovered. Prints the figures and last
"rate: X" (transactions recovered per second of recovery).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if txns < 1 || rows < 1 {
				return fmt.Errorf("--txns and --rows must be at least 1")
			}
			cfg, err := cf.config()
			if err != nil {
				return err
			}
			if cfg.Flavor.Name() != "pglogical" {
				return fmt.Errorf("bench recovery builds its lag with pglogical: --flavor must be pglogical")
			}
			if cfg.Nodes < 3 {
				return fmt.Errorf("bench recovery needs at least 3 nodes (one killed, one lagging, one source)")
			}
			out := cmd.OutOrStdout()
			res, err := bench.Recovery(cmd.Context(), bench.RecoveryOptions{Config: cfg, Txns: txns, Rows: rows, Progress: out})
			if err != nil {
				return err
			}
			ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
			for _, p := range res.Recovery.PerPair {
				fmt.Fprintf(out, "pair %s -> %s: %d transactions, %d rows, %s..%s in %s (applying %s)\n", p.Source, p.Target, p.Transactions, p.Rows, p.FromLSN, p.ToLSN, ms(p.Duration), ms(p.ApplyDuration))
			}
			for _, ph := range res.Recovery.Phases {
				fmt.Fprintf(out, "phase %s: %s\n", ph.Name, ms(ph.End.Sub(ph.Start)))
			}
			fmt.Fprintf(out, "recovered: %d transactions, %d rows in %s\n", res.Recovery.TransactionsRecovered, res.Recovery.RowsRecovered, ms(res.Elapsed))
			if !res.Complete() {
				return &exitError{code: exitFail, err: fmt.Errorf("recovered %d transactions, want %d", res.Recovery.TransactionsRecovered, txns)}
			}
			fmt.Fprintf(out, "rate: %.0f\n", res.Rate)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().IntVar(&txns, "txns", 10000, "transactions n3 lacks when n1 is killed")
	cmd.Flags().IntVar(&rows, "rows", 1, "rows per transaction")
	return cmd
}
