package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// setSubscriptionEnabled disables or enables one subscription on node,
// immediately. The harness Flavor has no statement for it yet, so the
// SQL is chosen here by flavor name.
func setSubscriptionEnabled(ctx context.Context, c *harness.Cluster, n *harness.Node, sub string, enabled bool) error {
	var fn string
	switch c.Flavor.Name() {
	case "pglogical":
		fn = "pglogical.alter_subscription_disable"
		if enabled {
			fn = "pglogical.alter_subscription_enable"
		}
	case "spock":
		fn = "spock.sub_disable"
		if enabled {
			fn = "spock.sub_enable"
		}
	default:
		return fmt.Errorf("flavor %s: no known way to disable a subscription", c.Flavor.Name())
	}
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
	if _, err := conn.Exec(ctx, "SELECT "+fn+"($1, true)", sub); err != nil {
		return fmt.Errorf("%s(%s) on %s: %w", fn, sub, n.Name, err)
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
	rows, err := conn.Query(ctx, c.Flavor.SubscriptionStatusQuery())
	if err != nil {
		return "", fmt.Errorf("subscription status on %s: %w", n.Name, err)
	}
	status := "missing"
	var name, st, provider string
	_, err = pgx.ForEachRow(rows, []any{&name, &st, &provider}, func() error {
		if name == sub {
			status = st
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("subscription status on %s: %w", n.Name, err)
	}
	return status, nil
}
