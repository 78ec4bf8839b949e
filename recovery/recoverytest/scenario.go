package recoverytest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
)

// LedgerSchema is the ledger table of the workload contract.
const LedgerSchema = `CREATE TABLE ledger (txn_id text NOT NULL, seq int NOT NULL, origin text NOT NULL, payload text NOT NULL, PRIMARY KEY (txn_id, seq))`

// Lag disables subscriber's subscription from provider and waits until its
// apply worker has exited (the subscription's origin is free).
func Lag(ctx context.Context, c *harness.Cluster, subscriber, provider string) error {
	n := c.Node(subscriber)
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sub := c.Flavor.SubscriptionName(subscriber, provider)
	for _, st := range c.Flavor.DisableSubscription(sub) {
		if _, err := conn.Exec(ctx, st.SQL, st.Args...); err != nil {
			return fmt.Errorf("lag %s on %s: %w", sub, subscriber, err)
		}
	}
	var origin string
	q := fmt.Sprintf("SELECT sub_slot_name FROM %s.subscription WHERE sub_name = $1", pgx.Identifier{c.Flavor.Name()}.Sanitize())
	if err := conn.QueryRow(ctx, q, sub).Scan(&origin); err != nil {
		return fmt.Errorf("lag %s on %s: origin: %w", sub, subscriber, err)
	}
	return harness.WaitFor(ctx, fmt.Sprintf("apply worker of %s on %s to exit", sub, subscriber), 30*time.Second, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			_, err := conn.Exec(ctx, "SELECT pg_replication_origin_session_setup($1)", origin)
			if err != nil {
				return false, err.Error(), nil
			}
			_, err = conn.Exec(ctx, "SELECT pg_replication_origin_session_reset()")
			return err == nil, "", err
		})
}

// WriteLedger commits txns ledger transactions of rows rows each on node,
// with txn ids <prefix>-<i>, pipelined (each its own transaction).
func WriteLedger(ctx context.Context, n *harness.Node, prefix string, txns, rows int) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SET synchronous_commit = off"); err != nil {
		return err
	}
	const perBatch = 500
	for start := 0; start < txns; start += perBatch {
		b := &pgx.Batch{}
		for i := start; i < min(start+perBatch, txns); i++ {
			b.Queue("BEGIN")
			b.Queue(`INSERT INTO ledger (txn_id, seq, origin, payload)
SELECT $1, s, $2, md5($1 || s) FROM generate_series(1, $3::int) s`, fmt.Sprintf("%s-%d", prefix, i), n.Name, rows)
			b.Queue("COMMIT")
		}
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("write ledger transactions on %s: %w", n.Name, err)
		}
	}
	return nil
}

// WaitCount waits until query (returning one count) gives want on node.
func WaitCount(ctx context.Context, n *harness.Node, query string, want int64, timeout time.Duration) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return harness.WaitFor(ctx, fmt.Sprintf("%d from %q on %s", want, query, n.Name), timeout, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			var got int64
			if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
				return false, "", err
			}
			return got == want, fmt.Sprint(got), nil
		})
}

// Kill sends SIGKILL to the node's container and waits until it has exited.
func Kill(ctx context.Context, n *harness.Node) error {
	cli, err := docker.Client(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.ContainerKill(ctx, n.Container.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("kill %s: %w", n.Name, err)
	}
	return harness.WaitFor(ctx, "container of "+n.Name+" to exit", 30*time.Second, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			st, err := n.Container.State(ctx)
			if err != nil {
				return false, "", err
			}
			return !st.Running, string(st.Status), nil
		})
}

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

// Restart starts a killed node's container again and returns its new DSN
// from the host (the published port may change), once it accepts logins.
func Restart(ctx context.Context, n *harness.Node) (string, error) {
	if err := n.Container.Start(ctx); err != nil {
		return "", fmt.Errorf("restart %s: %w", n.Name, err)
	}
	port, err := n.Container.MappedPort(ctx, harness.PostgresPort)
	if err != nil {
		return "", fmt.Errorf("restart %s: published port: %w", n.Name, err)
	}
	u, err := url.Parse(n.DSN)
	if err != nil {
		return "", err
	}
	u.Host = net.JoinHostPort(u.Hostname(), port.Port())
	dsn := u.String()
	err = harness.WaitFor(ctx, n.Name+" to accept connections after restart", time.Minute, 200*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return false, err.Error(), nil
			}
			conn.Close(ctx)
			return true, "", nil
		})
	return dsn, err
}

// Enable enables subscriber's subscription from provider (after a lag or
// a fence).
func Enable(ctx context.Context, c *harness.Cluster, subscriber, provider string) error {
	conn, err := c.Node(subscriber).Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sub := c.Flavor.SubscriptionName(subscriber, provider)
	for _, st := range c.Flavor.EnableSubscription(sub) {
		if _, err := conn.Exec(ctx, st.SQL, st.Args...); err != nil {
			return fmt.Errorf("enable %s on %s: %w", sub, subscriber, err)
		}
	}
	return nil
}

// LedgerXmins returns, for every ledger row of node whose txn_id starts
// with prefix, the xmin of its current version: a row applied again
// (replication sending what recovery already replayed) gets a new xmin.
func LedgerXmins(ctx context.Context, n *harness.Node, prefix string) (map[string]string, error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT txn_id || '/' || seq, xmin::text FROM ledger WHERE starts_with(txn_id, $1)", prefix)
	if err != nil {
		return nil, fmt.Errorf("read ledger xmins on %s: %w", n.Name, err)
	}
	out := map[string]string{}
	var k, x string
	_, err = pgx.ForEachRow(rows, []any{&k, &x}, func() error { out[k] = x; return nil })
	return out, err
}

// Reapplied names the keys whose row version changed between two
// LedgerXmins readings, or vanished, sorted.
func Reapplied(before, after map[string]string) []string {
	var out []string
	for k, x := range before {
		if after[k] != x {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// SpockImageEnv names the Spock image the Spock suite (make spock) runs
// on. No Spock image can be built in CI, so without it the Spock specs
// are skipped, saying so.
const SpockImageEnv = "SPOCKCHAOS_SPOCK_IMAGE"

// SpockSkipReason is what a skipped Spock spec says.
const SpockSkipReason = SpockImageEnv + " is not set: no Spock image to run on (see README, Testing a Spock build)"

// ConflictsOn counts the conflicts node's server log reports on ledger rows
// whose txn_id starts with prefix: pglogical and Spock both log a resolved
// conflict ("CONFLICT: remote INSERT on relation public.ledger ...") with
// a DETAIL line holding the tuples. A row replication sends again, which
// last-update-wins then resolves either way, shows here even when its
// version stays.
func ConflictsOn(ctx context.Context, c *harness.Cluster, node, prefix string) (int, error) {
	log, err := c.ServerLog(ctx, c.Node(node))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "DETAIL:") && strings.Contains(line, "tuple") && strings.Contains(line, prefix) {
			n++
		}
	}
	return n, nil
}
