package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

func init() { benchCommands = append(benchCommands, newBenchWorkloadCmd) }

// pgbenchPath is pgbench in the node image (Debian's PostgreSQL 17).
const pgbenchPath = "/usr/lib/postgresql/17/bin/pgbench"

// pgbenchLedgerScript is the ledger op (K = 1) as pgbench runs it: the same
// statement shape as workload.Ledger's, prepared, one transaction each.
const pgbenchLedgerScript = `INSERT INTO ledger (txn_id, seq, origin, payload)
SELECT 'pgbench-' || gen_random_uuid()::text, g, 'pgbench', 'abcdefghijklmnop' FROM generate_series(1, 1) AS g;
`

func newBenchWorkloadCmd() *cobra.Command {
	var (
		cf       clusterFlags
		duration time.Duration
		clients  int
		direct   bool
		rounds   int
		profile  string
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
			if clients < 1 || duration < time.Second || rounds < 1 {
				return fmt.Errorf("--clients and --rounds must be >= 1 and --duration >= 1s")
			}
			cfg, err := cf.config()
			if err != nil {
				return err
			}
			cfg.Schema = workload.LedgerSchema
			ctx := cmd.Context()
			cluster, err := harness.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer cluster.Remove(context.WithoutCancel(ctx))
			out := cmd.OutOrStdout()

			path := "published ports"
			if direct {
				path = "container addresses"
			}
			// Alternate the two so that load from elsewhere on the machine
			// hits both alike; compare medians.
			var oursRates, pgbenchRates []float64
			for round := 1; round <= rounds; round++ {
				// Even rounds run pgbench first, so neither side always
				// gets the emptier table.
				var tps float64
				if round%2 == 0 {
					if tps, err = benchPgbench(ctx, cluster, clients, duration); err != nil {
						return err
					}
				}
				if profile != "" && round == 1 {
					pf, err := os.Create(profile)
					if err != nil {
						return fmt.Errorf("--cpuprofile: %w", err)
					}
					defer pf.Close()
					if err := pprof.StartCPUProfile(pf); err != nil {
						return fmt.Errorf("--cpuprofile: %w", err)
					}
				}
				ours, err := benchLedger(ctx, cluster, clients, duration, direct)
				if profile != "" && round == 1 {
					pprof.StopCPUProfile()
				}
				if err != nil {
					return err
				}
				oursRate := float64(ours.Ok) / ours.Elapsed.Seconds() // committed ops only, like pgbench's tps
				if round%2 == 1 {
					if tps, err = benchPgbench(ctx, cluster, clients, duration); err != nil {
						return err
					}
				}
				fmt.Fprintf(out, "round %d: spockchaos %.0f ops/s (%d ok, %d fail, %d info), pgbench %.0f tps\n", round, oursRate, ours.Ok, ours.Fail, ours.Info, tps)
				oursRates = append(oursRates, oursRate)
				pgbenchRates = append(pgbenchRates, tps)
			}
			oursRate, tps := medianFloat(oursRates), medianFloat(pgbenchRates)
			fmt.Fprintf(out, "spockchaos ledger K=1 (history on, %s, GOMAXPROCS=%d, %d nodes x %d clients, %s) median: %.0f ops/s\n",
				path, runtime.GOMAXPROCS(0), len(cluster.Nodes), clients, duration, oursRate)
			fmt.Fprintf(out, "pgbench one-row insert (prepared, from the next node's container, %d nodes x %d clients, %s) median: %.0f tps\n", len(cluster.Nodes), clients, duration, tps)
			if tps <= 0 {
				return fmt.Errorf("pgbench reported no throughput")
			}
			fmt.Fprintf(out, "ratio: %.2f\n", oursRate/tps)
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "duration of each measurement")
	cmd.Flags().IntVar(&clients, "clients", 2, "clients per node (both sides)")
	cmd.Flags().StringVar(&profile, "cpuprofile", "", "write a CPU profile of the spockchaos rounds to this file")
	cmd.Flags().IntVar(&rounds, "rounds", 3, "alternating rounds of both measurements; medians are compared")
	cmd.Flags().BoolVar(&direct, "direct", true, "connect our clients to the containers' addresses on the run network, the path pgbench uses; false: through the published ports (docker's proxy)")
	return cmd
}

func benchLedger(ctx context.Context, cluster *harness.Cluster, clients int, d time.Duration, direct bool) (workload.Stats, error) {
	var targets []workload.Target
	for _, n := range cluster.Nodes {
		dsn := n.DSN
		if direct {
			ip, err := n.Container.ContainerIP(ctx)
			if err != nil {
				return workload.Stats{}, fmt.Errorf("address of %s on the run network: %w", n.Name, err)
			}
			u, err := url.Parse(n.DSN)
			if err != nil {
				return workload.Stats{}, fmt.Errorf("DSN of %s: %w", n.Name, err)
			}
			u.Host = net.JoinHostPort(ip, "5432")
			dsn = u.String()
		}
		targets = append(targets, workload.Target{Name: n.Name, DSN: dsn})
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("spockchaos-bench-%d.jsonl", time.Now().UnixNano()))
	rec, err := history.Create(path)
	if err != nil {
		return workload.Stats{}, err
	}
	defer os.Remove(path)
	defer rec.Close()
	stats, err := (&workload.Ledger{Rows: 1}).Run(ctx, workload.RunConfig{
		Nodes: targets, Recorder: rec, Seed: 1, ClientsPerNode: clients, Duration: d,
		TxnPrefix: fmt.Sprintf("bench-%d-", time.Now().UnixNano()),
	})
	if err != nil {
		return workload.Stats{}, err
	}
	// Recorded to a real file, as in a run, so the cost is included.
	return stats, rec.Close()
}

var tpsRE = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)

// benchPgbench runs one pgbench per node, at the same time, and sums their
// tps. The pgbench for node i runs in the container of node i+1 (mod N), so
// that its packets cross the run network as ours do (a pgbench inside the
// target's own container would talk to itself over its local route).
func benchPgbench(ctx context.Context, cluster *harness.Cluster, clients int, d time.Duration) (float64, error) {
	secs := strconv.Itoa(int(d.Round(time.Second).Seconds()))
	tps := make([]float64, len(cluster.Nodes))
	g, gctx := errgroup.WithContext(ctx)
	for i, n := range cluster.Nodes {
		host := cluster.Nodes[(i+1)%len(cluster.Nodes)]
		g.Go(func() error {
			const script = "/tmp/spockchaos-ledger.sql"
			if err := host.Container.CopyToContainer(gctx, []byte(pgbenchLedgerScript), script, 0o644); err != nil {
				return fmt.Errorf("copy pgbench script to %s: %w", host.Name, err)
			}
			c := strconv.Itoa(clients)
			cmd := []string{pgbenchPath, "-n", "-M", "prepared", "-f", script, "-c", c, "-j", c, "-T", secs, n.NetworkDSN}
			code, out, err := host.Container.Exec(gctx, cmd, tcexec.Multiplexed(), tcexec.WithUser("postgres"))
			if err != nil {
				return fmt.Errorf("pgbench on %s: %w", n.Name, err)
			}
			text, _ := io.ReadAll(out)
			if code != 0 {
				return fmt.Errorf("pgbench on %s exited %d: %s", n.Name, code, lastLines(string(text), 5))
			}
			m := tpsRE.FindStringSubmatch(string(text))
			if m == nil {
				return fmt.Errorf("pgbench on %s: no tps in output: %s", n.Name, lastLines(string(text), 5))
			}
			tps[i], err = strconv.ParseFloat(m[1], 64)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	sum := 0.0
	for _, t := range tps {
		sum += t
	}
	return sum, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
