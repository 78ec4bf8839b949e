package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// WaitReady waits until every subscription among nodes is replicating and
// then a barrier among them passes: the cluster's definition of ready.
func (c *Cluster) WaitReady(ctx context.Context, nodes []*Node, timeout time.Duration) error {
	start := time.Now()
	if err := c.WaitReplicating(ctx, nodes, timeout); err != nil {
		return err
	}
	return c.Barrier(ctx, nodes, timeout-time.Since(start))
}

// wakeInterval is how long a subscription may stay down before
// WaitReplicating wakes the flavor's manager for it.
const wakeInterval = 2 * time.Second

// WaitReplicating waits until, on every node of nodes, the subscription to
// every other node of nodes reports status "replicating". A subscription
// that stays down (its worker failed, e.g. while the provider restarted)
// is woken every wakeInterval; a disabled one is left alone.
func (c *Cluster) WaitReplicating(ctx context.Context, nodes []*Node, timeout time.Duration) error {
	conns, closeAll, err := connectAll(ctx, nodes)
	if err != nil {
		return err
	}
	defer closeAll()
	what := fmt.Sprintf("subscriptions among %s to be %s", names(nodes), Replicating)
	lastWake := time.Now()
	return WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		var pending []string
		wake := time.Since(lastWake) > wakeInterval
		if wake {
			lastWake = time.Now()
		}
		for i, n := range nodes {
			status, err := c.subscriptionStatus(ctx, conns[i])
			if err != nil {
				return false, "", fmt.Errorf("subscription status on %s: %w", n.Name, err)
			}
			for _, p := range nodes {
				if p == n {
					continue
				}
				sub := c.Flavor.SubscriptionName(n.Name, p.Name)
				if s, ok := status[sub]; !ok || s != Replicating {
					if !ok {
						s = "missing"
					}
					pending = append(pending, fmt.Sprintf("%s: %s %s", n.Name, sub, s))
					if s == Down && wake {
						if err := execStatements(ctx, conns[i], c.Flavor.WakeSubscription(sub)); err != nil {
							return false, "", fmt.Errorf("wake subscription %s on %s: %w", sub, n.Name, err)
						}
						c.log.Debug("woke a subscription that was down", "node", n.Name, "subscription", sub)
					}
				}
			}
		}
		return len(pending) == 0, strings.Join(pending, ", "), nil
	})
}

func (c *Cluster) subscriptionStatus(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	rows, err := conn.Query(ctx, c.Flavor.SubscriptionStatusQuery())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var name, status, provider string
	_, err = pgx.ForEachRow(rows, []any{&name, &status, &provider}, func() error {
		out[name] = status
		return nil
	})
	return out, err
}

// Barrier writes a marker row on every node of nodes and waits until every
// one of them sees every marker: then each node has applied the others'
// writes made before the barrier. The error on timeout names which node
// lacks which markers.
func (c *Cluster) Barrier(ctx context.Context, nodes []*Node, timeout time.Duration) error {
	token := "barrier-" + randomHex(6)
	conns, closeAll, err := connectAll(ctx, nodes)
	if err != nil {
		return err
	}
	defer closeAll()
	for i, n := range nodes {
		if _, err := conns[i].Exec(ctx, "INSERT INTO spockchaos.barrier (token, node) VALUES ($1, $2)", token, n.Name); err != nil {
			return fmt.Errorf("barrier: write marker on %s: %w", n.Name, err)
		}
	}
	what := fmt.Sprintf("barrier %s among %s", token, names(nodes))
	err = WaitFor(ctx, what, timeout, 20*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		var lacking []string
		for i, n := range nodes {
			var seen []string
			if err := conns[i].QueryRow(ctx, "SELECT coalesce(array_agg(node), '{}') FROM spockchaos.barrier WHERE token = $1", token).Scan(&seen); err != nil {
				return false, "", fmt.Errorf("read markers on %s: %w", n.Name, err)
			}
			var missing []string
			for _, p := range nodes {
				if !slices.Contains(seen, p.Name) {
					missing = append(missing, p.Name)
				}
			}
			if len(missing) > 0 {
				lacking = append(lacking, fmt.Sprintf("%s lacks markers of %s", n.Name, strings.Join(missing, ",")))
			}
		}
		return len(lacking) == 0, strings.Join(lacking, "; "), nil
	})
	if err == nil {
		c.log.Debug("barrier passed", "token", token, "nodes", names(nodes))
	}
	return err
}

func connectAll(ctx context.Context, nodes []*Node) ([]*pgx.Conn, func(), error) {
	conns := make([]*pgx.Conn, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { conns[i], errs[i] = n.Connect(ctx) })
	}
	wg.Wait()
	closeAll := func() {
		for _, conn := range conns {
			if conn != nil {
				conn.Close(context.Background())
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	return conns, closeAll, nil
}

func names(nodes []*Node) string {
	s := make([]string, len(nodes))
	for i, n := range nodes {
		s[i] = n.Name
	}
	return strings.Join(s, ",")
}
