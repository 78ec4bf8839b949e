package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/reference"
	"github.com/spockchaos/spockchaos/recovery/slots"
	"github.com/spockchaos/spockchaos/workload"
)

// RTOOptions configure RTO.
type RTOOptions struct {
	// Config is the cluster to start for each size: pglogical (the lag is
	// built with it), at least 3 nodes. Its Schema is replaced by the
	// ledger table's.
	Config harness.Config
	// Sizes are the numbers of the victim's transactions the lagging
	// survivor lacks at the kill, one cluster each (each >= 1).
	Sizes []int
	// Rows is the rows per transaction (>= 1).
	Rows int
	// Repeat is how many times each size is measured, each on a fresh
	// cluster (0 means once): one recovery of a few hundred milliseconds
	// swings by half on a 2-core machine, so the ratio is a median.
	Repeat int
	// Progress receives a line per step; may be nil.
	Progress io.Writer
}

// RTOSize is what RTO measured for one size.
type RTOSize struct {
	Txns int
	// Recovered is what the reference recovery replayed (it should be Txns).
	Recovered int64
	// KillToLevel is from the kill to every survivor level (recovery
	// returned and its progress check passed); Detect is the kill's
	// confirmation, Decode the decoding of the source's recovery slot
	// (from its first peek, sent before the fence, to the end of the last,
	// waits for the targets included), Apply the time the target spent
	// applying.
	KillToLevel, Detect, Decode, Apply time.Duration
	// Decoded is how many transactions the decoding carried (every origin).
	Decoded int64
	// Floor is applying exactly the recovered transactions on the target
	// with nothing to decode (reference.MeasureApply), measured on the same
	// cluster right after, under the same load and with the slot keeper
	// paused as the recovery pauses it: the median of floorRuns.
	Floor time.Duration
	// Recovery is the recovery alone: from the start of the reference
	// recovery (right after the kill was confirmed) to every survivor
	// level. KillToLevel = Detect + Recovery.
	Recovery time.Duration
	// Ratio is Recovery / Floor: what the recovery costs beyond applying
	// the same transactions. Detect is left out of it: it is the docker
	// kill's own confirmation (about 0.2 s here whatever the size), not
	// work a recovery could do faster. KillRatio is KillToLevel / Floor.
	Ratio, KillRatio float64
	// Phases are the recovery's own steps (connect, fence, progress,
	// recover, verify-progress) with their times.
	Phases []recovery.Phase
}

// RTOResult is what RTO measured: every run, size by size in the order
// given (Repeat runs each), and each size's median ratios.
type RTOResult struct {
	Sizes []RTOSize
	// Medians are, per size in the order given, the median Ratio and
	// KillRatio of its runs.
	Medians []RTOMedian
	// Ratio is the middle size's median ratio.
	Ratio float64
}

// RTOMedian is one size's median ratios over its runs.
type RTOMedian struct {
	Txns, Runs       int
	Ratio, KillRatio float64
}

// RTO measures recovery time: for each size N, a cluster under load
// (single-row ledger writes on every node but the victim, all along), the
// recovery slot keeper running as in a scenario, n3 lagging behind n1 for
// N transactions of n1, n1 killed, reference recovery run while the load
// goes on; then the floor of the same N transactions.
func RTO(ctx context.Context, opts RTOOptions) (RTOResult, error) {
	cfg := opts.Config
	switch {
	case len(opts.Sizes) == 0 || opts.Rows < 1 || opts.Repeat < 0:
		return RTOResult{}, fmt.Errorf("bench rto: give at least one size, Rows >= 1 and Repeat >= 0")
	case cfg.Flavor == nil || cfg.Flavor.Name() != "pglogical":
		return RTOResult{}, fmt.Errorf("bench rto builds its lag with pglogical: the flavor must be pglogical")
	case cfg.Nodes < 3:
		return RTOResult{}, fmt.Errorf("bench rto needs at least 3 nodes (one killed, one lagging, one source)")
	}
	for _, n := range opts.Sizes {
		if n < 1 {
			return RTOResult{}, fmt.Errorf("bench rto: size %d: each size must be at least 1", n)
		}
	}
	cfg.Schema = workload.LedgerSchema
	out := progress(opts.Progress)
	var res RTOResult
	runs := max(opts.Repeat, 1)
	for _, n := range opts.Sizes {
		var ratios, killRatios []float64
		for range runs {
			s, err := rtoOnce(ctx, cfg, n, opts.Rows, out)
			if err != nil {
				return res, fmt.Errorf("bench rto, %d transactions: %w", n, err)
			}
			res.Sizes = append(res.Sizes, s)
			ratios, killRatios = append(ratios, s.Ratio), append(killRatios, s.KillRatio)
		}
		res.Medians = append(res.Medians, RTOMedian{Txns: n, Runs: runs, Ratio: median(ratios), KillRatio: median(killRatios)})
	}
	res.Ratio = res.Medians[len(res.Medians)/2].Ratio
	return res, nil
}

// floorRuns is how many times the floor is measured per size.
const floorRuns = 3

func rtoOnce(ctx context.Context, cfg harness.Config, txns, rows int, out io.Writer) (RTOSize, error) {
	s := RTOSize{Txns: txns}
	c, err := harness.Start(ctx, cfg)
	if err != nil {
		return s, err
	}
	defer func() {
		if err := c.Remove(context.WithoutCancel(ctx)); err != nil {
			slog.Error("remove benchmark cluster", "run", c.RunID, "err", err)
		}
	}()
	if err := slots.PrepareSlots(ctx, c); err != nil {
		return s, err
	}
	n1, n3 := c.Node("n1"), c.Node("n3")
	var alive sync.Mutex
	members := c.Nodes
	live := func() []*harness.Node {
		alive.Lock()
		defer alive.Unlock()
		return members
	}
	keeper := &slots.Keeper{Flavor: "pglogical", Members: func() []slots.KeeperNode {
		var ms []slots.KeeperNode
		for _, n := range live() {
			ms = append(ms, slots.KeeperNode{Name: n.Name, DSN: n.DSN})
		}
		return ms
	}}
	// Connections kept open ahead of the kill, as a scenario keeps them.
	standby := &slots.Standby{Members: func() []recovery.Survivor {
		var ms []recovery.Survivor
		for _, n := range live() {
			ms = append(ms, recovery.SurvivorOf(n))
		}
		return ms
	}}
	kctx, stopKeeper := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopKeeper(); wg.Wait() }()
	wg.Go(func() { keeper.Run(kctx) })
	wg.Go(func() { standby.Run(kctx) })
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadErr := make(chan error, len(c.Nodes))
	for _, n := range c.Nodes[1:] {
		go func() { _, err := loadOn(lctx, n); loadErr <- err }()
	}
	// The victim writes too, as it would until its end, but stops before
	// the lag so that the lagging survivor lacks exactly its next txns.
	vctx, stopVictim := context.WithCancel(lctx)
	defer stopVictim()
	victimLoad := make(chan loadDone, 1)
	go func() { n, err := loadOn(vctx, n1); victimLoad <- loadDone{n, err} }()

	// Let the keeper place the slots under load, then stop the victim's
	// load, wait until every survivor has it, lag n3 behind n1 and give
	// n1 the transactions n3 will lack.
	time.Sleep(2 * time.Second)
	stopVictim()
	vl := <-victimLoad
	if vl.err != nil {
		return s, vl.err
	}
	for _, n := range c.Nodes[1:] {
		if err := harness.WaitCount(ctx, n, "SELECT count(*) FROM ledger WHERE origin = 'n1'", vl.txns, time.Minute); err != nil {
			return s, err
		}
	}
	if err := fault.Disable(ctx, c, "n3", "n1"); err != nil {
		return s, err
	}
	t0 := time.Now()
	if err := workload.WriteLedgerTxns(ctx, n1.DSN, n1.Name, "rto", txns, rows); err != nil {
		return s, err
	}
	for _, n := range c.Nodes[1:] {
		if n.Name == "n3" {
			continue
		}
		if err := harness.WaitCount(ctx, n, "SELECT count(*) FROM ledger WHERE origin = 'n1'", vl.txns+int64(txns*rows), 5*time.Minute); err != nil {
			return s, err
		}
	}
	fmt.Fprintf(out, "%d transactions: written on n1 and received by every survivor but n3 in %s\n", txns, ms(time.Since(t0)))
	time.Sleep(time.Second) // a couple of keeper rounds

	killed := time.Now()
	if err := fault.KillNow(ctx, n1); err != nil {
		return s, err
	}
	s.Detect = time.Since(killed)
	alive.Lock()
	members = c.Nodes[1:]
	alive.Unlock()
	in := recovery.InputFromCluster(c, "n1")
	in.StepTimeout = 5 * time.Minute
	in.Standby = standby
	in.Keeper = keeper
	for i, sv := range in.Survivors {
		in.Survivors[i].Samples = keeper.Samples(sv.Name, "n1") // as a scenario's recovery gets them
	}
	began := time.Now()
	rec, err := reference.Reference{}.Recover(ctx, in)
	s.Recovery = time.Since(began)
	s.KillToLevel = time.Since(killed)
	if err != nil {
		return s, err
	}
	s.Recovered = rec.TransactionsRecovered
	s.Phases = rec.Phases
	for _, a := range rec.Actions {
		slog.Debug("bench rto: recovery action", "txns", txns, "after_kill", a.At.Sub(killed).Round(time.Millisecond), "node", a.Node, "what", a.What, "output", a.Output, "error", a.Error)
	}
	for _, p := range rec.PerPair {
		s.Apply += p.ApplyDuration
		s.Decode = max(s.Decode, p.DecodeDuration)
		s.Decoded = max(s.Decoded, p.Decoded)
	}

	// The floor: the same transactions, read back from n3, applied again
	// into a copy of the table with nothing to decode.
	floorTxns, err := ledgerTxns(ctx, n3, "rto-")
	if err != nil {
		return s, err
	}
	if err := execOn(ctx, n3, "CREATE TABLE ledger_floor (LIKE ledger INCLUDING ALL)"); err != nil {
		return s, err
	}
	// The median of floorRuns, the table emptied before each: one
	// measurement swings widely on a busy machine. The keeper is paused
	// as the recovery paused it: the same conditions for both.
	resume := keeper.Pause()
	defer resume()
	var floors []time.Duration
	for range floorRuns {
		if err := execOn(ctx, n3, "TRUNCATE ledger_floor"); err != nil {
			return s, err
		}
		f, err := reference.MeasureApply(ctx, n3.DSN, "n3", reference.FloorTable{Schema: "public", Name: "ledger_floor",
			Columns: []string{"txn_id", "seq", "origin", "payload"}, KeyColumns: 2}, floorTxns)
		if err != nil {
			return s, err
		}
		floors = append(floors, f)
	}
	resume()
	s.Floor = median(floors)
	s.Ratio = ratio(s.Recovery.Seconds(), s.Floor.Seconds())
	s.KillRatio = ratio(s.KillToLevel.Seconds(), s.Floor.Seconds())
	stopLoad()
	for range c.Nodes[1:] {
		if err := <-loadErr; err != nil {
			return s, err
		}
	}
	return s, nil
}

// loadDone is what a load ended with: the transactions it committed.
type loadDone struct {
	txns int64
	err  error
}

// loadOn commits single-row ledger transactions on n until ctx is done and
// returns how many committed: ctx is checked between statements, never
// cancels one midway (whether a cancelled insert committed is not known),
// so the count is exact.
func loadOn(ctx context.Context, n *harness.Node) (int64, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			return int64(i), nil
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		_, err := conn.Exec(sctx, "INSERT INTO ledger (txn_id, seq, origin, payload) VALUES ($1, 1, $2, md5($1))", fmt.Sprintf("load-%s-%d", n.Name, i), n.Name)
		cancel()
		if err != nil {
			return int64(i), fmt.Errorf("load on %s: %w", n.Name, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ledgerTxns reads n's ledger rows whose txn_id starts with prefix as
// transactions (rows grouped by txn_id, in key order), as text.
func ledgerTxns(ctx context.Context, n *harness.Node, prefix string) ([][][]string, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT txn_id, seq::text, origin, payload FROM ledger WHERE starts_with(txn_id, $1) ORDER BY txn_id, seq", prefix)
	if err != nil {
		return nil, fmt.Errorf("read ledger on %s: %w", n.Name, err)
	}
	var out [][][]string
	last := ""
	var id, seq, origin, payload string
	_, err = pgx.ForEachRow(rows, []any{&id, &seq, &origin, &payload}, func() error {
		if id != last || len(out) == 0 {
			out = append(out, nil)
			last = id
		}
		out[len(out)-1] = append(out[len(out)-1], []string{id, seq, origin, payload})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger on %s: %w", n.Name, err)
	}
	return out, nil
}

func execOn(ctx context.Context, n *harness.Node, sql string) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s on %s: %w", sql, n.Name, err)
	}
	return nil
}
