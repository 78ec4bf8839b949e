package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload"
)

// WorkloadOptions configure Workload.
type WorkloadOptions struct {
	// Config is the cluster to start; its Schema is replaced by the
	// ledger table's.
	Config harness.Config
	// Clients is the clients per node on both sides (>= 1).
	Clients int
	// Duration is the length of each measurement (>= 1s; pgbench takes
	// whole seconds).
	Duration time.Duration
	// Rounds is the number of alternating rounds of both measurements
	// (>= 1).
	Rounds int
	// Direct connects our clients to the containers' addresses on the run
	// network, the path pgbench uses; false: through the published ports
	// (docker's proxy).
	Direct bool
	// CPUProfile, when set, is a file to write a CPU profile of the first
	// round's ledger measurement to.
	CPUProfile string
	// Progress receives one line per round; may be nil.
	Progress io.Writer
}

// WorkloadRound is one round of both measurements.
type WorkloadRound struct {
	// Ledger is the ledger workload's stats, LedgerRate its committed ops
	// per second (ok only, like pgbench's tps).
	Ledger     workload.Stats
	LedgerRate float64
	// PgbenchTPS is the sum of every node's pgbench tps.
	PgbenchTPS float64
}

// WorkloadResult is what Workload measured.
type WorkloadResult struct {
	Nodes, Clients int
	Duration       time.Duration
	Direct         bool
	// GOMAXPROCS is the Go processors our clients ran with.
	GOMAXPROCS int
	Rounds     []WorkloadRound
	// LedgerMedian (ops/s) and PgbenchMedian (tps) are the medians over
	// Rounds.
	LedgerMedian, PgbenchMedian float64
	// Ratio is LedgerMedian / PgbenchMedian, 0 when pgbench reported no
	// throughput.
	Ratio float64
}

// Workload starts one cluster and runs on it, alternating for Rounds
// rounds, the ledger workload with K=1 and history recording to a file
// and pgbench with an equivalent one-row insert script, with the same
// clients per node and the same duration.
func Workload(ctx context.Context, opts WorkloadOptions) (WorkloadResult, error) {
	if opts.Clients < 1 || opts.Duration < time.Second || opts.Rounds < 1 {
		return WorkloadResult{}, fmt.Errorf("bench workload: Clients and Rounds must be >= 1 and Duration >= 1s")
	}
	cfg := opts.Config
	cfg.Schema = workload.LedgerSchema
	cluster, err := harness.Start(ctx, cfg)
	if err != nil {
		return WorkloadResult{}, err
	}
	defer cluster.Remove(context.WithoutCancel(ctx))
	out := progress(opts.Progress)
	res := WorkloadResult{
		Nodes: len(cluster.Nodes), Clients: opts.Clients, Duration: opts.Duration,
		Direct: opts.Direct, GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	// Alternate the two so that load from elsewhere on the machine hits
	// both alike; compare medians.
	var ledgerRates, pgbenchRates []float64
	for round := 1; round <= opts.Rounds; round++ {
		r, err := workloadRound(ctx, cluster, opts, round)
		if err != nil {
			return WorkloadResult{}, err
		}
		fmt.Fprintf(out, "round %d: spockchaos %.0f ops/s (%d ok, %d fail, %d info), pgbench %.0f tps\n", round, r.LedgerRate, r.Ledger.Ok, r.Ledger.Fail, r.Ledger.Info, r.PgbenchTPS)
		res.Rounds = append(res.Rounds, r)
		ledgerRates, pgbenchRates = append(ledgerRates, r.LedgerRate), append(pgbenchRates, r.PgbenchTPS)
	}
	res.LedgerMedian, res.PgbenchMedian = median(ledgerRates), median(pgbenchRates)
	res.Ratio = ratio(res.LedgerMedian, res.PgbenchMedian)
	return res, nil
}

// workloadRound runs both measurements once: even rounds run pgbench
// first, so that neither side always gets the emptier table.
func workloadRound(ctx context.Context, cluster *harness.Cluster, opts WorkloadOptions, round int) (WorkloadRound, error) {
	var r WorkloadRound
	var err error
	if round%2 == 0 {
		if r.PgbenchTPS, err = runPgbench(ctx, cluster, opts.Clients, opts.Duration); err != nil {
			return r, err
		}
	}
	profile := opts.CPUProfile != "" && round == 1
	if profile {
		pf, err := os.Create(opts.CPUProfile)
		if err != nil {
			return r, fmt.Errorf("CPU profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return r, fmt.Errorf("CPU profile: %w", err)
		}
	}
	r.Ledger, err = runLedger(ctx, cluster, opts.Clients, opts.Duration, opts.Direct)
	if profile {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return r, err
	}
	r.LedgerRate = float64(r.Ledger.Ok) / r.Ledger.Elapsed.Seconds()
	if round%2 == 1 {
		if r.PgbenchTPS, err = runPgbench(ctx, cluster, opts.Clients, opts.Duration); err != nil {
			return r, err
		}
	}
	return r, nil
}
