package recoverytest

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload"
)

// LedgerRows returns the ledger's rows on node, ordered, as text, each with
// its commit timestamp: equal slices mean equal contents and equal
// last-update-wins timestamps.
func LedgerRows(ctx context.Context, n *harness.Node) ([]string, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT format('%s|%s|%s|%s|%s', txn_id, seq, origin, payload, pg_xact_commit_timestamp(xmin)) FROM ledger ORDER BY txn_id, seq")
	if err != nil {
		return nil, fmt.Errorf("read ledger on %s: %w", n.Name, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// MissingTxns returns the txn ids in from's ledger that to's lacks, sorted.
func MissingTxns(ctx context.Context, from, to *harness.Node) ([]string, error) {
	ids := func(n *harness.Node) (map[string]bool, error) {
		conn, err := n.Connect(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		rows, err := conn.Query(ctx, "SELECT DISTINCT txn_id FROM ledger")
		if err != nil {
			return nil, fmt.Errorf("read txn ids on %s: %w", n.Name, err)
		}
		list, err := pgx.CollectRows(rows, pgx.RowTo[string])
		m := map[string]bool{}
		for _, id := range list {
			m[id] = true
		}
		return m, err
	}
	a, err := ids(from)
	if err != nil {
		return nil, err
	}
	b, err := ids(to)
	if err != nil {
		return nil, err
	}
	var missing []string
	for id := range a {
		if !b[id] {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	return missing, nil
}

// SpockImageEnv names the Spock image the Spock suite (make spock) runs
// on. No Spock image can be built in CI, so without it the Spock specs
// are skipped, saying so.
const SpockImageEnv = "SPOCKCHAOS_SPOCK_IMAGE"

// SpockSkipReason is what a skipped Spock spec says.
const SpockSkipReason = SpockImageEnv + " is not set: no Spock image to run on (see README, Testing a Spock build)"

// LedgerSchema is the ledger table of the workload contract.
const LedgerSchema = workload.LedgerSchema

// Lag disables subscriber's subscription from provider and waits until its
// apply worker has exited (the subscription's origin is free).
func Lag(ctx context.Context, c *harness.Cluster, subscriber, provider string) error {
	return fault.Disable(ctx, c, subscriber, provider)
}

// Enable enables subscriber's subscription from provider (after a lag or
// a fence).
func Enable(ctx context.Context, c *harness.Cluster, subscriber, provider string) error {
	return fault.Enable(ctx, c, subscriber, provider)
}

// Kill sends SIGKILL to the node's container and waits until it has exited.
func Kill(ctx context.Context, n *harness.Node) error { return fault.KillNow(ctx, n) }

// Restart starts a killed node's container again and returns its new DSN
// from the host (the published port may change; n.DSN is updated too),
// once it accepts logins.
func Restart(ctx context.Context, n *harness.Node) (string, error) {
	err := fault.StartNode(ctx, n)
	return n.DSN, err
}

// WriteLedger commits txns ledger transactions of rows rows each on node,
// with txn ids <prefix>-<i>, pipelined (each its own transaction).
func WriteLedger(ctx context.Context, n *harness.Node, prefix string, txns, rows int) error {
	return workload.WriteLedgerTxns(ctx, n.DSN, n.Name, prefix, txns, rows)
}

// WaitCount waits until query (returning one count) gives want on node.
func WaitCount(ctx context.Context, n *harness.Node, query string, want int64, timeout time.Duration) error {
	return harness.WaitCount(ctx, n, query, want, timeout)
}

// LedgerXmins returns, for every ledger row of node whose txn_id starts
// with prefix, the xmin of its current version (workload.LedgerXmins).
func LedgerXmins(ctx context.Context, n *harness.Node, prefix string) (map[string]string, error) {
	return workload.LedgerXmins(ctx, n.DSN, n.Name, prefix)
}

// Reapplied names the keys whose row version changed between two
// LedgerXmins readings, or vanished, sorted.
func Reapplied(before, after map[string]string) []string { return workload.Reapplied(before, after) }

// ConflictsOn counts the conflicts node's server log reports on ledger rows
// whose txn_id starts with prefix (harness.Cluster.ConflictsLogged).
func ConflictsOn(ctx context.Context, c *harness.Cluster, node, prefix string) (int, error) {
	return c.ConflictsLogged(ctx, node, prefix)
}
