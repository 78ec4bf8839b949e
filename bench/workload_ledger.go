package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// runLedger runs the ledger workload with K=1 on every node of cluster
// for d, recording its history to a real file, as in a run, so that the
// cost is included. direct: to the containers' addresses on the run
// network; otherwise through the published ports.
func runLedger(ctx context.Context, cluster *harness.Cluster, clients int, d time.Duration, direct bool) (workload.Stats, error) {
	var targets []workload.Target
	for _, n := range cluster.Nodes {
		dsn := n.DSN
		if direct {
			var err error
			if dsn, err = networkDSN(ctx, n); err != nil {
				return workload.Stats{}, err
			}
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
	return stats, rec.Close()
}

// networkDSN is n's DSN with the host set to n's container address on the
// run network.
func networkDSN(ctx context.Context, n *harness.Node) (string, error) {
	ip, err := n.Container.ContainerIP(ctx)
	if err != nil {
		return "", fmt.Errorf("address of %s on the run network: %w", n.Name, err)
	}
	u, err := url.Parse(n.DSN)
	if err != nil {
		return "", fmt.Errorf("DSN of %s: %w", n.Name, err)
	}
	u.Host = net.JoinHostPort(ip, "5432")
	return u.String(), nil
}
