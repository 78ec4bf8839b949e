package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// KillNow, StartNode/StartAgain, Disable and Enable (direct.go) are
// the same mechanics without a Fault's lifecycle or effect check, for
// what sets a situation up rather than injects a fault (bench, the
// rejoin step, recovery's specs through recoverytest): one place for
// each kill, restart, lag and resubscription.

// The same mechanics as the faults', without a Fault's lifecycle or
// effect check, for benchmarks, specs and scenario steps that set a
// situation up rather than inject a fault: one place for each.

// KillNow sends SIGKILL to node n's container through the engine and
// waits until it has exited (at most 30 s).
func KillNow(ctx context.Context, n *harness.Node) error {
	if err := killContainer(ctx, n, "KILL"); err != nil {
		return fmt.Errorf("kill %s: %w", n.Name, err)
	}
	return harness.WaitFor(ctx, "container of "+n.Name+" to exit", 30*time.Second, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			st, err := containerState(ctx, n)
			if err != nil {
				return false, "", err
			}
			return !st.Running, string(st.Status), nil
		})
}

// StartNode starts node n's killed or stopped container again, points
// n.DSN (and n.DirectDSN) at its new address (the engine publishes a new
// port on every start) and waits until it accepts connections (at most a
// minute), without waiting for its subscriptions: a node fenced by a
// recovery replicates again only once resubscribed.
func StartNode(ctx context.Context, n *harness.Node) error {
	if err := startContainer(ctx, n); err != nil {
		return fmt.Errorf("restart %s: %w", n.Name, err)
	}
	if err := RefreshDSN(ctx, n); err != nil {
		return fmt.Errorf("restart %s: %w", n.Name, err)
	}
	return harness.WaitFor(ctx, n.Name+" to accept connections after restart", time.Minute, 200*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			if err := probe(ctx, n, probeTimeout); err != nil {
				return false, err.Error(), nil
			}
			return true, "", nil
		})
}

// StartAgain is StartNode on c's node, with the link proxies whose
// provider it is pointed at its new address too.
func StartAgain(ctx context.Context, c *harness.Cluster, node string) error {
	n, err := nodeByName(c, node)
	if err != nil {
		return err
	}
	if err := StartNode(ctx, n); err != nil {
		return err
	}
	if links := c.Links(); links != nil {
		return links.Retarget(ctx, n)
	}
	return nil
}

// Disable disables receiver's subscription from origin at once and waits
// (at most 30 s) until its apply worker has let go of the subscription's
// replication origin: nothing origin commits afterwards reaches receiver.
// Enable undoes it. (The lag fault disables the same way and proves its
// effect by a marker instead.)
func Disable(ctx context.Context, c *harness.Cluster, receiver, origin string) error {
	n, err := nodeByName(c, receiver)
	if err != nil {
		return err
	}
	sub := c.Flavor.SubscriptionName(receiver, origin)
	if err := setSubscriptionEnabled(ctx, c, n, sub, false); err != nil {
		return fmt.Errorf("lag %s on %s: %w", sub, receiver, err)
	}
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var replOrigin string
	q := fmt.Sprintf("SELECT sub_slot_name FROM %s.subscription WHERE sub_name = $1", pgx.Identifier{c.Flavor.Name()}.Sanitize())
	if err := conn.QueryRow(ctx, q, sub).Scan(&replOrigin); err != nil {
		return fmt.Errorf("lag %s on %s: origin: %w", sub, receiver, err)
	}
	return harness.WaitFor(ctx, fmt.Sprintf("apply worker of %s on %s to exit", sub, receiver), 30*time.Second, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			if _, err := conn.Exec(ctx, "SELECT pg_replication_origin_session_setup($1)", replOrigin); err != nil {
				return false, err.Error(), nil
			}
			_, err := conn.Exec(ctx, "SELECT pg_replication_origin_session_reset()")
			return err == nil, "", err
		})
}

// Enable enables receiver's subscription from origin (after a Disable, a
// lag or a recovery's fence).
func Enable(ctx context.Context, c *harness.Cluster, receiver, origin string) error {
	n, err := nodeByName(c, receiver)
	if err != nil {
		return err
	}
	sub := c.Flavor.SubscriptionName(receiver, origin)
	if err := setSubscriptionEnabled(ctx, c, n, sub, true); err != nil {
		return fmt.Errorf("enable %s on %s: %w", sub, receiver, err)
	}
	return nil
}
