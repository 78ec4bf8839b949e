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
// WaitLinks wakes the flavor's manager for it.
const wakeInterval = 2 * time.Second

// Link is one subscription: Subscriber receives Provider's changes.
type Link struct {
	Subscriber, Provider *Node
}

// Mesh is every link among nodes (each node subscribes to every other).
func Mesh(nodes []*Node) []Link {
	var links []Link
	for _, s := range nodes {
		for _, p := range nodes {
			if s != p {
				links = append(links, Link{Subscriber: s, Provider: p})
			}
		}
	}
	return links
}

// WaitReplicating waits until, on every node of nodes, the subscription to
// every other node of nodes reports status "replicating" (see WaitLinks).
func (c *Cluster) WaitReplicating(ctx context.Context, nodes []*Node, timeout time.Duration) error {
	return c.WaitLinks(ctx, Mesh(nodes), timeout)
}

// WaitLinks waits until every link's subscription reports "replicating".
// A subscription that stays down (its worker failed, e.g. while the
// provider restarted: pglogical's manager may then sleep for minutes) is
// re-enabled every wakeInterval, which starts its worker at once; a
// disabled one is left alone.
func (c *Cluster) WaitLinks(ctx context.Context, links []Link, timeout time.Duration) error {
	var subscribers []*Node
	for _, l := range links {
		if !slices.Contains(subscribers, l.Subscriber) {
			subscribers = append(subscribers, l.Subscriber)
		}
	}
	conns, closeAll, err := connectAll(ctx, subscribers)
	if err != nil {
		return err
	}
	defer closeAll()
	what := fmt.Sprintf("%d subscriptions (subscribers %s) to be %s", len(links), names(subscribers), Replicating)
	// downSince is when each subscription was last seen not down (or woken):
	// only one down for a whole wakeInterval is woken, since waking one whose
	// worker is just starting would kill that worker.
	downSince := map[string]time.Time{}
	var stuck []Link
	err = WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		stuck = stuck[:0]
		statuses := make(map[*Node]map[string]string, len(subscribers))
		for i, n := range subscribers {
			status, err := c.SubscriptionStatuses(ctx, conns[i])
			if err != nil {
				return false, "", fmt.Errorf("subscription status on %s: %w", n.Name, err)
			}
			statuses[n] = status
		}
		var pending []string
		for _, l := range links {
			sub := c.Flavor.SubscriptionName(l.Subscriber.Name, l.Provider.Name)
			s, ok := statuses[l.Subscriber][sub]
			if ok && s == Replicating {
				continue
			}
			if !ok {
				s = "missing"
			}
			pending = append(pending, fmt.Sprintf("%s: %s %s", l.Subscriber.Name, sub, s))
			stuck = append(stuck, l)
			key := l.Subscriber.Name + "/" + sub
			if _, seen := downSince[key]; !seen || s != Down {
				downSince[key] = time.Now()
			}
			if s == Down && time.Since(downSince[key]) > wakeInterval {
				downSince[key] = time.Now()
				conn := conns[slices.Index(subscribers, l.Subscriber)]
				if err := execStatements(ctx, conn, c.Flavor.EnableSubscription(sub)); err != nil {
					return false, "", fmt.Errorf("wake subscription %s on %s: %w", sub, l.Subscriber.Name, err)
				}
				c.log.Debug("woke a subscription that was down", "node", l.Subscriber.Name, "subscription", sub)
			}
		}
		return len(pending) == 0, strings.Join(pending, ", "), nil
	})
	if err != nil && len(stuck) > 0 {
		if ev := c.logEvidence(context.WithoutCancel(ctx), stuck); ev != "" {
			err = fmt.Errorf("%w; server logs: %s", err, ev)
		}
	}
	return err
}

// logEvidence names, for links that never replicated, the last error each
// end's server log holds (an apply worker's error is logged by the
// subscriber, often quoting the provider's; the provider logs why it
// refused the walsender), so that a subscription that stays down is
// reported with the reason.
func (c *Cluster) logEvidence(ctx context.Context, links []Link) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var seen []*Node
	var out []string
	for _, l := range links {
		for _, n := range []*Node{l.Subscriber, l.Provider} {
			if n == nil || n.Container == nil || slices.Contains(seen, n) {
				continue
			}
			seen = append(seen, n)
			data, err := c.ServerLog(ctx, n)
			if err != nil {
				continue
			}
			if line := LastError(data); line != "" {
				out = append(out, n.Name+": "+line)
			}
		}
	}
	return strings.Join(out, "; ")
}

// LastError returns the last ERROR or FATAL line of a server log, trimmed
// ("" when there is none).
func LastError(log []byte) string {
	lines := strings.Split(string(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "ERROR:") || strings.Contains(lines[i], "FATAL:") {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}

// SubscriptionStatuses runs the flavor's status function on conn: each
// subscription of that node by name, with its status (replicating, down,
// disabled, ...).
func (c *Cluster) SubscriptionStatuses(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
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
	if c.noBarrier {
		return nil
	}
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
