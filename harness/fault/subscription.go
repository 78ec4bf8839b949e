package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// setSubscriptionEnabled disables or enables one subscription on node,
// immediately, with the flavor's statements, under a statement timeout.
func setSubscriptionEnabled(ctx context.Context, c *harness.Cluster, n *harness.Node, sub string, enabled bool) error {
	stmts := c.Flavor.DisableSubscription(sub)
	if enabled {
		stmts = c.Flavor.EnableSubscription(sub)
	}
	return runStatements(ctx, n, sub, stmts)
}

// runStatements runs stmts about subscription sub on node n, in one
// session, under a statement timeout.
func runStatements(ctx context.Context, n *harness.Node, sub string, stmts []harness.Statement) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET statement_timeout = '20s'"); err != nil {
		return fmt.Errorf("set statement_timeout on %s: %w", n.Name, err)
	}
	for _, st := range stmts {
		if _, err := conn.Exec(ctx, st.SQL, st.Args...); err != nil {
			return fmt.Errorf("%s (%s) on %s: %w", st.SQL, sub, n.Name, err)
		}
	}
	return nil
}

// subscriptionStatus is the status of subscription sub on node n.
func subscriptionStatus(ctx context.Context, c *harness.Cluster, n *harness.Node, sub string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := n.Connect(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	all, err := c.SubscriptionStatuses(ctx, conn)
	if err != nil {
		return "", fmt.Errorf("subscription status on %s: %w", n.Name, err)
	}
	if st, ok := all[sub]; ok {
		return st, nil
	}
	return "missing", nil
}
