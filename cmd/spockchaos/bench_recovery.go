package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
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
			cfg.Schema = recoverytest.LedgerSchema
			ctx := cmd.Context()
			c, err := harness.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() {
				if err := c.Remove(context.WithoutCancel(ctx)); err != nil {
					slog.Error("remove benchmark cluster", "run", c.RunID, "err", err)
				}
			}()
			return benchRecovery(ctx, cmd, c, txns, rows)
		},
	}
	cf.register(cmd)
	cmd.Flags().IntVar(&txns, "txns", 10000, "transactions n3 lacks when n1 is killed")
	cmd.Flags().IntVar(&rows, "rows", 1, "rows per transaction")
	return cmd
}

func benchRecovery(ctx context.Context, cmd *cobra.Command, c *harness.Cluster, txns, rows int) error {
	out := cmd.OutOrStdout()
	if err := recovery.PrepareSlots(ctx, c); err != nil {
		return err
	}
	if err := recoverytest.Lag(ctx, c, "n3", "n1"); err != nil {
		return err
	}
	t0 := time.Now()
	if err := recoverytest.WriteLedger(ctx, c.Node("n1"), "bench", txns, rows); err != nil {
		return err
	}
	for _, n := range c.Nodes[1:] {
		if n.Name == "n3" {
			continue
		}
		if err := recoverytest.WaitCount(ctx, n, "SELECT count(*) FROM ledger", int64(txns*rows), 5*time.Minute); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "setup: %d transactions of %d row(s) on n1, replicated to every survivor but n3, in %s\n", txns, rows, time.Since(t0).Round(time.Millisecond))
	if err := recoverytest.Kill(ctx, c.Node("n1")); err != nil {
		return err
	}
	in := recovery.InputFromCluster(c, "n1")
	in.StepTimeout = 5 * time.Minute
	start := time.Now()
	res, err := recovery.Reference{}.Recover(ctx, in)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	for _, p := range res.PerPair {
		fmt.Fprintf(out, "pair %s -> %s: %d transactions, %d rows, %s..%s in %s (applying %s)\n", p.Source, p.Target, p.Transactions, p.Rows, p.FromLSN, p.ToLSN, p.Duration.Round(time.Millisecond), p.ApplyDuration.Round(time.Millisecond))
	}
	for _, ph := range res.Phases {
		fmt.Fprintf(out, "phase %s: %s\n", ph.Name, ph.End.Sub(ph.Start).Round(time.Millisecond))
	}
	fmt.Fprintf(out, "recovered: %d transactions, %d rows in %s\n", res.TransactionsRecovered, res.RowsRecovered, elapsed.Round(time.Millisecond))
	if res.TransactionsRecovered != int64(txns) {
		return &exitError{code: exitFail, err: fmt.Errorf("recovered %d transactions, want %d", res.TransactionsRecovered, txns)}
	}
	fmt.Fprintf(out, "rate: %.0f\n", float64(res.TransactionsRecovered)/elapsed.Seconds())
	return nil
}
