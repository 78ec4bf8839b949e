package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// barrierSchema holds the harness's own replicated table. It is applied
// with the user's schema so that it replicates like any other table.
const barrierSchema = `CREATE SCHEMA IF NOT EXISTS spockchaos;
CREATE TABLE IF NOT EXISTS spockchaos.barrier (
  token text NOT NULL,
  node  text NOT NULL,
  at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  pad   text, -- bulk for markers that prove a bandwidth cap
  PRIMARY KEY (token, node)
)`

// userSchemasQuery lists the schemas whose tables are replicated: every
// schema but the system's and the replication extensions' own.
const userSchemasQuery = `SELECT coalesce(array_agg(nspname::text ORDER BY nspname), '{}') FROM pg_namespace
WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('information_schema', 'pglogical', 'spock')`

// configure creates every node and its tables before any subscription
// exists, then subscribes every node to every other. Ordering it this way
// keeps pglogical apply workers from ever failing (a failed worker only
// retries after a delay), so bring-up stays fast.
func (c *Cluster) configure(ctx context.Context, schema string) error {
	err := c.onEach(ctx, c.Nodes, func(ctx context.Context, n *Node, conn *pgx.Conn) error {
		if ls, ok := c.Flavor.(listSetter); ok {
			done, err := ensureListSettings(ctx, n, conn, ls.ListSettings())
			if err != nil {
				return fmt.Errorf("create replication node %s: %w", n.Name, err)
			}
			c.log.Debug("run-time settings", "node", n.Name, "done", done)
		}
		if err := execStatements(ctx, conn, c.Flavor.CreateNode(n.Peer())); err != nil {
			return fmt.Errorf("create replication node %s: %w", n.Name, err)
		}
		return c.applySchema(ctx, n, conn, barrierSchema+";\n"+schema)
	})
	if err != nil {
		return err
	}
	// One transaction per node: the flavor's manager then sees all of a
	// node's subscriptions at once and starts their workers in one pass.
	return c.onEach(ctx, c.Nodes, func(ctx context.Context, n *Node, conn *pgx.Conn) error {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			for _, p := range c.Nodes {
				if p == n {
					continue
				}
				provider, err := c.providerPeer(n, p)
				if err != nil {
					return err
				}
				if err := execStatements(ctx, tx, c.Flavor.Subscribe(n.Peer(), provider)); err != nil {
					return fmt.Errorf("subscribe %s to %s: %w", n.Name, p.Name, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.hurryWorkers(ctx, n, conn)
		return nil
	})
}

// providerPeer is provider as subscriber reaches it: through the link's
// proxy when the cluster has link proxies, else directly.
func (c *Cluster) providerPeer(subscriber, provider *Node) (Peer, error) {
	peer := provider.Peer()
	if c.links == nil {
		return peer, nil
	}
	dsn, err := c.links.DSN(LinkName{Subscriber: subscriber.Name, Provider: provider.Name}, peer.DSN)
	if err != nil {
		return Peer{}, fmt.Errorf("subscribe %s to %s: %w", subscriber.Name, provider.Name, err)
	}
	peer.DSN = dsn
	return peer, nil
}

// managerWaker is a flavor whose manager can be hurried while it starts a
// node's apply workers (pglogical: see its WakeManager). The statement
// returns how many subscriptions still wait for a worker and whether it
// woke the manager.
type managerWaker interface {
	WakeManager() Statement
}

// hurryWorkers repeats the flavor's wake until every subscription of n has
// a worker, for at most hurryFor. It only saves time: on any error it
// stops and leaves the workers to the manager (readiness is still awaited
// by WaitReady).
func (c *Cluster) hurryWorkers(ctx context.Context, n *Node, conn *pgx.Conn) {
	waker, ok := c.Flavor.(managerWaker)
	if !ok {
		return
	}
	st := waker.WakeManager()
	deadline := time.Now().Add(hurryFor)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var waiting int
		var woke bool
		if err := conn.QueryRow(ctx, st.SQL, st.Args...).Scan(&waiting, &woke); err != nil {
			c.log.Debug("stop hurrying apply workers", "node", n.Name, "err", err)
			return
		}
		if waiting == 0 {
			return
		}
		if woke {
			c.log.Debug("woke the replication manager", "node", n.Name, "waiting", waiting)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hurryFor bounds hurryWorkers.
const hurryFor = 10 * time.Second

// ApplySchema runs schema on every node, puts the new tables into
// replication and waits for a barrier, so that the tables replicate once it
// returns. DDL does not replicate: this is how tables are added to a
// running cluster.
func (c *Cluster) ApplySchema(ctx context.Context, schema string, timeout time.Duration) error {
	err := c.onEach(ctx, c.Nodes, func(ctx context.Context, n *Node, conn *pgx.Conn) error {
		return c.applySchema(ctx, n, conn, schema)
	})
	if err != nil {
		return err
	}
	return c.Barrier(ctx, c.Nodes, timeout)
}

func (c *Cluster) applySchema(ctx context.Context, n *Node, conn *pgx.Conn, schema string) error {
	// The simple protocol runs a multi-statement script in one round trip.
	if _, err := conn.Exec(ctx, schema, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("apply schema on %s: %w", n.Name, err)
	}
	if c.Flavor == nil {
		return nil // plain servers (AttachServers): nothing replicates
	}
	var schemas []string
	if err := conn.QueryRow(ctx, userSchemasQuery).Scan(&schemas); err != nil {
		return fmt.Errorf("list schemas on %s: %w", n.Name, err)
	}
	if err := execStatements(ctx, conn, c.Flavor.ReplicateTables(schemas)); err != nil {
		return fmt.Errorf("put tables into replication on %s: %w", n.Name, err)
	}
	return nil
}

// onEach connects to every node of nodes and runs fn on them in parallel.
func (c *Cluster) onEach(ctx context.Context, nodes []*Node, fn func(context.Context, *Node, *pgx.Conn) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, n := range nodes {
		g.Go(func() error {
			conn, err := n.Connect(gctx)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(gctx))
			return fn(gctx, n, conn)
		})
	}
	return g.Wait()
}
