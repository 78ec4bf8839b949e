package harness

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// WaitCount waits, up to timeout, until query (returning one count)
// gives want on node n.
func WaitCount(ctx context.Context, n *Node, query string, want int64, timeout time.Duration) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return WaitFor(ctx, fmt.Sprintf("%d from %q on %s", want, query, n.Name), timeout, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			var got int64
			if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
				return false, "", err
			}
			return got == want, fmt.Sprint(got), nil
		})
}

// ConflictsLogged counts the conflicts node's server log reports on rows
// whose tuples contain key: pglogical and Spock both log a resolved
// conflict ("CONFLICT: remote INSERT on relation public.ledger ...")
// with a DETAIL line holding the tuples. A row replication sends again,
// which last-update-wins then resolves either way, shows here even when
// its version stays.
func (c *Cluster) ConflictsLogged(ctx context.Context, node, key string) (int, error) {
	log, err := c.ServerLog(ctx, c.Node(node))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "DETAIL:") && strings.Contains(line, "tuple") && strings.Contains(line, key) {
			n++
		}
	}
	return n, nil
}
