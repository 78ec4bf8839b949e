package bench

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/harness"
)

// pgbenchPath is pgbench in the node image: on the PATH the recipe's image
// sets (/usr/lib/postgresql/<major>/bin), whatever its major.
const pgbenchPath = "pgbench"

// pgbenchLedgerScript is the ledger op (K = 1) as pgbench runs it: the same
// statement shape as workload.Ledger's, prepared, one transaction each.
const pgbenchLedgerScript = `INSERT INTO ledger (txn_id, seq, origin, payload)
SELECT 'pgbench-' || gen_random_uuid()::text, g, 'pgbench', 'abcdefghijklmnop' FROM generate_series(1, 1) AS g;
`

// runPgbench runs one pgbench per node, at the same time, and sums their
// tps. The pgbench for node i runs in the container of node i+1 (mod N), so
// that its packets cross the run network as ours do (a pgbench inside the
// target's own container would talk to itself over its local route).
func runPgbench(ctx context.Context, cluster *harness.Cluster, clients int, d time.Duration) (float64, error) {
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
			tps[i], err = parsePgbenchTPS(string(text))
			if err != nil {
				return fmt.Errorf("pgbench on %s: %w", n.Name, err)
			}
			return nil
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

var tpsRE = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)

// parsePgbenchTPS is the tps figure of pgbench's output.
func parsePgbenchTPS(text string) (float64, error) {
	m := tpsRE.FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("no tps in output: %s", lastLines(text, 5))
	}
	return strconv.ParseFloat(m[1], 64)
}

// lastLines is the last n lines of s joined by " | ", for an error.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
