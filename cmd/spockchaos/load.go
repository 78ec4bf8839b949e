package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

func init() { commands = append(commands, newLoadCmd) }

type loadFlags struct {
	workload  string
	duration  time.Duration
	ops       int
	seed      int64
	out       string
	runID     string
	dsns      []string
	clients   int
	rate      float64
	failover  bool
	txnPrefix string
	timeout   time.Duration
	plan      int
	planNodes int
	rows      int
	records   int
}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Run a workload against a running cluster and record its history",
		Long: `Runs a workload (` + strings.Join(workload.Names(), ", ") + `) with clients on every node
of a cluster started with "spockchaos up --detach" (--run RUN_ID) or of servers
named by --dsn (name=DSN, or a bare DSN named n1, n2, ... in order).
The workload's schema is applied on every node and put into replication, its
initial rows written, and a barrier passed before the clients start. Every
op is recorded in --out (JSON Lines). A live progress line is shown on a
terminal, plain lines every few seconds otherwise. Ctrl-C stops the clients;
ops in flight complete and are recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.workload, "workload", "ledger", "workload: "+strings.Join(workload.Names(), ", "))
	fl.DurationVar(&f.duration, "duration", 30*time.Second, "how long the clients issue ops (0: until --ops or Ctrl-C)")
	fl.IntVar(&f.ops, "ops", 0, "stop after this many ops in total (0: no limit)")
	fl.Int64Var(&f.seed, "seed", 0, "seed of every random choice (default: from the clock, printed)")
	fl.StringVar(&f.out, "out", "history.jsonl", "history file to write (JSON Lines)")
	fl.StringVar(&f.runID, "run", "", "run id of a detached cluster (spockchaos up --detach)")
	fl.StringArrayVar(&f.dsns, "dsn", nil, "node DSN, name=DSN or bare (repeat per node)")
	fl.IntVar(&f.clients, "clients", 2, "clients per node")
	fl.Float64Var(&f.rate, "rate", 0, "target ops/s over all clients (0: unlimited)")
	fl.BoolVar(&f.failover, "failover", false, "move clients of a dead node to another node")
	fl.StringVar(&f.txnPrefix, "txn-prefix", "", `prefix of transaction ids (default "s<seed>-<time>-", fresh per invocation)`)
	fl.DurationVar(&f.timeout, "ready-timeout", 2*time.Minute, "bound on schema setup and the barrier")
	fl.IntVar(&f.rows, "ledger-rows", 0, "ledger: rows per transaction K (default 5)")
	fl.IntVar(&f.records, "ycsb-records", 0, "ycsb: rows loaded before the run (default 1000)")
	fl.IntVar(&f.plan, "plan", 0, "print the first N ops of every client for --seed and exit (no cluster needed)")
	fl.IntVar(&f.planNodes, "plan-nodes", 3, "nodes n1..nN assumed by --plan")
	return cmd
}

func runLoad(cmd *cobra.Command, f loadFlags) error {
	ctx := cmd.Context()
	if f.plan > 0 {
		var nodes []string
		for i := range f.planNodes {
			nodes = append(nodes, fmt.Sprintf("n%d", i+1))
		}
		lines, err := workload.Plan(f.workload, f.seed, nodes, f.clients, f.plan)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Fprintln(cmd.OutOrStdout(), l)
		}
		return nil
	}
	if (f.runID == "") == (len(f.dsns) == 0) {
		return errors.New("name the cluster with exactly one of --run RUN_ID or --dsn DSN")
	}
	w, err := workload.Lookup(f.workload)
	if err != nil {
		return fmt.Errorf("--workload: %w", err)
	}
	switch w := w.(type) {
	case *workload.Ledger:
		w.Rows = f.rows
	case *workload.YCSB:
		w.RecordCount = f.records
	}
	if !cmd.Flags().Changed("seed") {
		f.seed = time.Now().UnixNano() % 1_000_000
	}
	if f.txnPrefix == "" {
		f.txnPrefix = fmt.Sprintf("s%d-%s-", f.seed, time.Now().UTC().Format("150405"))
	}
	// A run of ours is attached to by its labels, other servers (--dsn) by
	// their DSNs; either way the schema, its replication set and the
	// barrier are the harness's (plain servers: the schema only).
	cluster, err := attachLoad(ctx, f)
	if err != nil {
		return err
	}
	var targets []workload.Target
	for _, n := range cluster.Nodes {
		targets = append(targets, workload.Target{Name: n.Name, DSN: n.DSN})
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "workload %s, seed %d, nodes %s, %d clients per node\n", w.Name(), f.seed, strings.Join(workload.NodeNames(targets), ","), f.clients)
	if err := cluster.ApplySchema(ctx, w.Schema(), f.timeout); err != nil {
		return err
	}
	rec, err := history.Create(f.out)
	if err != nil {
		return err
	}
	defer rec.Close()
	if err := w.Setup(ctx, targets, rec); err != nil {
		return err
	}
	if err := cluster.Barrier(ctx, cluster.Nodes, f.timeout); err != nil {
		return err
	}
	if err := rec.Flush(); err != nil {
		return err
	}
	progress := newProgressPrinter(cmd.ErrOrStderr())
	stats, err := w.Run(ctx, workload.RunConfig{
		Nodes: targets, Recorder: rec, Seed: f.seed, ClientsPerNode: f.clients, Rate: f.rate,
		Duration: f.duration, OpCount: f.ops, Failover: f.failover, TxnPrefix: f.txnPrefix,
		Progress: progress.update,
	})
	progress.done()
	if err != nil {
		return err
	}
	if err := rec.Close(); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s: %d ops in %s (%.0f ops/s): %d ok, %d fail, %d info\n", w.Name(), stats.Ops(), stats.Elapsed.Round(time.Millisecond), stats.Rate(), stats.Ok, stats.Fail, stats.Info)
	for _, n := range workload.NodeNames(targets) {
		ns := stats.PerNode[n]
		fmt.Fprintf(out, "  %s: %d ok, %d fail, %d info\n", n, ns.Ok, ns.Fail, ns.Info)
	}
	if len(stats.Reasons) > 0 {
		reasons := make([]string, 0, len(stats.Reasons))
		for r, c := range stats.Reasons {
			reasons = append(reasons, fmt.Sprintf("%s %d", r, c))
		}
		sort.Strings(reasons)
		fmt.Fprintf(out, "  reasons: %s\n", strings.Join(reasons, ", "))
	}
	fmt.Fprintf(out, "history: %s (seed %d)\n", f.out, f.seed)
	return nil
}

// attachLoad is the cluster load runs on: the detached run --run names,
// or the servers --dsn names (harness.AttachServers).
func attachLoad(ctx context.Context, f loadFlags) (*harness.Cluster, error) {
	if f.runID != "" {
		return harness.Attach(ctx, f.runID)
	}
	targets, err := dsnTargets(f.dsns)
	if err != nil {
		return nil, err
	}
	nodes := make([]*harness.Node, len(targets))
	for i, t := range targets {
		nodes[i] = &harness.Node{Name: t.Name, DSN: t.DSN}
	}
	return harness.AttachServers(ctx, nodes)
}

var libpqKeywords = []string{"host", "hostaddr", "port", "dbname", "user", "password", "passfile",
	"sslmode", "connect_timeout", "application_name", "options", "service", "target_session_attrs"}

func dsnTargets(dsns []string) ([]workload.Target, error) {
	var targets []workload.Target
	for i, d := range dsns {
		// name=DSN, unless the part before '=' is a DSN keyword (a bare
		// keyword/value DSN like "host=... port=...") or not a plain name.
		name, dsn, ok := strings.Cut(d, "=")
		if !ok || strings.ContainsAny(name, " :/?@") || slices.Contains(libpqKeywords, name) {
			name, dsn = fmt.Sprintf("n%d", i+1), d
		}
		if _, err := pgx.ParseConfig(dsn); err != nil {
			return nil, fmt.Errorf("--dsn %s: %w", name, err)
		}
		targets = append(targets, workload.Target{Name: name, DSN: dsn})
	}
	return targets, nil
}

// progressPrinter shows ops/s, errors and per-node rates: one line
// rewritten in place on a terminal, a plain line every 5 s otherwise.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	last  workload.Stats
	lines int
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressPrinter{w: w, tty: tty}
}

func (p *progressPrinter) update(s workload.Stats) {
	dt := (s.Elapsed - p.last.Elapsed).Seconds()
	if dt <= 0 {
		return
	}
	p.lines++
	if !p.tty && p.lines%5 != 0 {
		return
	}
	var nodes []string
	for _, n := range slices.Sorted(maps.Keys(s.PerNode)) {
		ns, prev := s.PerNode[n], p.last.PerNode[n]
		nodes = append(nodes, fmt.Sprintf("%s %.0f/s", n, float64(ns.Ops()-prev.Ops())/dt))
	}
	line := fmt.Sprintf("%5.0fs  %6.0f ops/s  ok %d  fail %d  info %d  | %s",
		s.Elapsed.Seconds(), float64(s.Ops()-p.last.Ops())/dt, s.Ok, s.Fail, s.Info, strings.Join(nodes, "  "))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.last = s
}

func (p *progressPrinter) done() {
	if p.tty && p.lines > 0 {
		fmt.Fprintln(p.w)
	}
}
