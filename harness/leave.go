package harness

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leftover is one object a removed node left on a survivor.
type Leftover struct {
	On     string `json:"on"`     // the survivor
	Kind   string `json:"kind"`   // slot, origin, subscription, node
	Object string `json:"object"` // its name
}

func (l Leftover) String() string { return fmt.Sprintf("%s %s on %s", l.Kind, l.Object, l.On) }

// RemoveNode takes node name out of the cluster cleanly, under load:
//
//  1. the node is fenced (default_transaction_read_only, reloaded: its
//     clients' next transactions fail, so every write it acknowledged is
//     in its WAL before the marker of step 2);
//  2. a marker written on it is awaited on every other node: they hold
//     every write it acknowledged;
//  3. every other node drops its subscription to it, and it drops its
//     subscriptions to them (which drops their slots for it);
//  4. the node drops its replication node, every other node drops the
//     record of it, and its container is removed.
//
// Objects left on the others are not judged here: see Leftovers.
func (c *Cluster) RemoveNode(ctx context.Context, name string, timeout time.Duration) error {
	j, ok := c.Flavor.(joiner)
	if !ok {
		return fmt.Errorf("remove node %s: flavor %s cannot remove nodes", name, c.Flavor.Name())
	}
	n := c.Node(name)
	if n == nil {
		return fmt.Errorf("remove node %s: not a node of the cluster", name)
	}
	others := slices.DeleteFunc(slices.Clone(c.Nodes), func(x *Node) bool { return x == n })
	step := func(what string, err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("remove node %s: %s: %w", name, what, err)
	}
	if err := step("fence its writers", fence(ctx, n)); err != nil {
		return err
	}
	if err := step("others receive its last writes", c.drainFrom(ctx, n, others, timeout)); err != nil {
		return err
	}
	err := c.onEach(ctx, others, func(ctx context.Context, x *Node, conn *pgx.Conn) error {
		sub := c.Flavor.SubscriptionName(x.Name, name)
		if err := execStatements(ctx, conn, j.DropSubscription(sub)); err != nil {
			return fmt.Errorf("drop %s on %s: %w", sub, x.Name, err)
		}
		return nil
	})
	if err := step("drop the subscriptions to it", err); err != nil {
		return err
	}
	err = onNode(ctx, n, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "SET default_transaction_read_only = off"); err != nil {
			return err
		}
		for _, x := range others {
			sub := c.Flavor.SubscriptionName(name, x.Name)
			if err := execStatements(ctx, conn, j.DropSubscription(sub)); err != nil {
				return fmt.Errorf("drop %s on %s: %w", sub, name, err)
			}
		}
		return execStatements(ctx, conn, j.DropNode(name))
	})
	if err := step("drop its subscriptions and node", err); err != nil {
		return err
	}
	err = c.onEach(ctx, others, func(ctx context.Context, x *Node, conn *pgx.Conn) error {
		return execStatements(ctx, conn, j.DropNode(name))
	})
	if err := step("drop the record of it on the others", err); err != nil {
		return err
	}
	if err := step("remove its container", n.Container.Terminate(ctx)); err != nil {
		return err
	}
	c.Nodes = others
	c.log.Info("node removed", "node", name)
	return nil
}

// fence makes n refuse writes from its clients' next transactions on
// (a reload reaches every session that did not SET it itself).
func fence(ctx context.Context, n *Node) error {
	return onNode(ctx, n, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "ALTER SYSTEM SET default_transaction_read_only = on"); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, "SELECT pg_reload_conf()")
		return err
	})
}

// drainFrom writes a marker on n (in a session that may write) and waits
// until every node of others has it.
func (c *Cluster) drainFrom(ctx context.Context, n *Node, others []*Node, timeout time.Duration) error {
	token := "leave-" + randomHex(6)
	err := onNode(ctx, n, func(conn *pgx.Conn) error {
		// Fenced sessions read the setting at their next transaction:
		// wait for the reload to reach this one before writing.
		time.Sleep(200 * time.Millisecond)
		if _, err := conn.Exec(ctx, "SET default_transaction_read_only = off"); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, "INSERT INTO spockchaos.barrier (token, node) VALUES ($1, $2)", token, n.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("write marker on %s: %w", n.Name, err)
	}
	q := fmt.Sprintf("SELECT count(*) FROM spockchaos.barrier WHERE token = %s", QuoteLiteral(token))
	for _, x := range others {
		if err := WaitCount(ctx, x, q, 1, timeout); err != nil {
			return fmt.Errorf("marker of %s on %s: %w", n.Name, x.Name, err)
		}
	}
	return nil
}

// nameMentions matches an object name that names node as a word of it
// (slots sub_n1_n4, pgl_postgres_n4_sub_n1_n4, spock_postgres_recovery_n1_n4).
func nameMentions(node string) *regexp.Regexp {
	return regexp.MustCompile(`(^|_)` + regexp.QuoteMeta(node) + `(_|$)`)
}

// Leftovers lists what the nodes of on still hold of node gone: replication
// slots and origins whose names name it, the flavor's subscriptions to
// or named after it, and its node record.
func (c *Cluster) Leftovers(ctx context.Context, gone string, on []*Node) ([]Leftover, error) {
	re := nameMentions(gone)
	schema := pgx.Identifier{c.Flavor.Name()}.Sanitize()
	queries := []struct{ kind, sql string }{
		{"slot", "SELECT slot_name::text FROM pg_replication_slots"},
		{"origin", "SELECT roname::text FROM pg_replication_origin"},
		{"subscription", "SELECT sub_name::text FROM " + schema + ".subscription"},
		{"node", "SELECT node_name::text FROM " + schema + ".node"},
	}
	var out []Leftover
	for _, x := range on {
		err := onNode(ctx, x, func(conn *pgx.Conn) error {
			for _, q := range queries {
				rows, err := conn.Query(ctx, q.sql)
				if err != nil {
					return fmt.Errorf("list %ss on %s: %w", q.kind, x.Name, err)
				}
				names, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return fmt.Errorf("list %ss on %s: %w", q.kind, x.Name, err)
				}
				for _, nm := range names {
					if re.MatchString(nm) || (q.kind == "node" && strings.EqualFold(nm, gone)) {
						out = append(out, Leftover{On: x.Name, Kind: q.kind, Object: nm})
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
