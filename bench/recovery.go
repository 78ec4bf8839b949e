package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/reference"
	"github.com/spockchaos/spockchaos/recovery/slots"
	"github.com/spockchaos/spockchaos/workload"
)

// RecoveryOptions configure Recovery.
type RecoveryOptions struct {
	// Config is the cluster to start: the pglogical flavor (the lag is
	// built with it), at least 3 nodes. Its Schema is replaced by the
	// ledger table's.
	Config harness.Config
	// Txns is the number of ledger transactions n3 lacks when n1 is
	// killed, Rows the rows of each (both >= 1).
	Txns, Rows int
	// Progress receives a line once the transactions are in place; may be
	// nil.
	Progress io.Writer
}

// RecoveryResult is what Recovery measured.
type RecoveryResult struct {
	// Txns is the number of transactions there were to recover.
	Txns int
	// Recovery is the reference strategy's result, with its pairs and
	// phases.
	Recovery *recovery.Result
	// Elapsed is the wall time of the recovery.
	Elapsed time.Duration
	// Rate is transactions recovered per second of Elapsed.
	Rate float64
}

// Complete says whether exactly Txns transactions were recovered.
func (r RecoveryResult) Complete() bool {
	return r.Recovery.TransactionsRecovered == int64(r.Txns)
}

// Recovery starts a cluster with the ledger table and recovery slots,
// lags n3's feed from n1, commits Txns transactions on n1 that only the
// other survivors receive, kills n1 and times reference recovery of n1 on
// the survivors.
func Recovery(ctx context.Context, opts RecoveryOptions) (RecoveryResult, error) {
	cfg := opts.Config
	switch {
	case opts.Txns < 1 || opts.Rows < 1:
		return RecoveryResult{}, fmt.Errorf("bench recovery: Txns and Rows must be at least 1")
	case cfg.Flavor == nil || cfg.Flavor.Name() != "pglogical":
		return RecoveryResult{}, fmt.Errorf("bench recovery builds its lag with pglogical: the flavor must be pglogical")
	case cfg.Nodes < 3:
		return RecoveryResult{}, fmt.Errorf("bench recovery needs at least 3 nodes (one killed, one lagging, one source)")
	}
	cfg.Schema = workload.LedgerSchema
	c, err := harness.Start(ctx, cfg)
	if err != nil {
		return RecoveryResult{}, err
	}
	defer func() {
		if err := c.Remove(context.WithoutCancel(ctx)); err != nil {
			slog.Error("remove benchmark cluster", "run", c.RunID, "err", err)
		}
	}()
	return recoverLagged(ctx, c, opts.Txns, opts.Rows, progress(opts.Progress))
}

// recoverLagged builds the lag on c, kills n1 and times its recovery.
func recoverLagged(ctx context.Context, c *harness.Cluster, txns, rows int, out io.Writer) (RecoveryResult, error) {
	if err := slots.PrepareSlots(ctx, c); err != nil {
		return RecoveryResult{}, err
	}
	if err := fault.Disable(ctx, c, "n3", "n1"); err != nil {
		return RecoveryResult{}, err
	}
	t0 := time.Now()
	if err := workload.WriteLedgerTxns(ctx, c.Node("n1").DSN, "n1", "bench", txns, rows); err != nil {
		return RecoveryResult{}, err
	}
	for _, n := range c.Nodes[1:] {
		if n.Name == "n3" {
			continue
		}
		if err := harness.WaitCount(ctx, n, "SELECT count(*) FROM ledger", int64(txns*rows), 5*time.Minute); err != nil {
			return RecoveryResult{}, err
		}
	}
	fmt.Fprintf(out, "setup: %d transactions of %d row(s) on n1, replicated to every survivor but n3, in %s\n", txns, rows, ms(time.Since(t0)))
	if err := fault.KillNow(ctx, c.Node("n1")); err != nil {
		return RecoveryResult{}, err
	}
	in := recovery.InputFromCluster(c, "n1")
	in.StepTimeout = 5 * time.Minute
	start := time.Now()
	res, err := reference.Reference{}.Recover(ctx, in)
	elapsed := time.Since(start)
	if err != nil {
		return RecoveryResult{}, err
	}
	return RecoveryResult{
		Txns: txns, Recovery: res, Elapsed: elapsed,
		Rate: float64(res.TransactionsRecovered) / elapsed.Seconds(),
	}, nil
}
