package recoverytest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
)

// SlotNode is one live node whose recovery slots may be advanced: its
// name, a DSN, and the names of its peers (one recovery slot each).
type SlotNode struct {
	Name  string
	DSN   string
	Peers []string
}

// AdvanceSlots moves recovery slots forward to a point that every node
// holds, so that a later recovery decodes only what came after it
// (DESIGN.md section 5: "it may be advanced only at a barrier"). It
// captures each node's current WAL position, then calls barrier, which
// must write a marker on every node and wait until every node has every
// marker; only if the barrier passes does it advance each node's slots to
// that node's captured position.
//
// Why that is safe: a transaction in S's WAL before S's position committed
// at its origin X before the positions were captured, so before X wrote
// its marker; a node that has X's marker has it. nodes must be every live
// node of the cluster, and no earlier failure may still await recovery.
//
// When the barrier fails (a lag or a partition keeps markers from
// arriving), nothing is advanced and the barrier's error is returned.
func AdvanceSlots(ctx context.Context, nodes []SlotNode, barrier func(context.Context) error) ([]recovery.Advanced, error) {
	positions := make([]recovery.LSN, len(nodes))
	g, gctx := errgroup.WithContext(ctx)
	for i, n := range nodes {
		g.Go(func() error {
			conn, err := pgx.Connect(gctx, n.DSN)
			if err != nil {
				return fmt.Errorf("advance recovery slots: capture position on %s: %w", n.Name, err)
			}
			defer conn.Close(context.WithoutCancel(gctx))
			var pos string
			// The insert position, not the write position: apply workers
			// commit asynchronously, so what a node has applied may not be
			// written out yet. The node's own barrier marker, committed
			// synchronously, flushes past it before any slot moves.
			if err := conn.QueryRow(gctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&pos); err != nil {
				return fmt.Errorf("advance recovery slots: capture position on %s: %w", n.Name, err)
			}
			positions[i], err = recovery.ParseLSN(pos)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := barrier(ctx); err != nil {
		return nil, fmt.Errorf("advance recovery slots: barrier: %w", err)
	}
	out := make([]recovery.Advanced, len(nodes))
	g, gctx = errgroup.WithContext(ctx)
	for i, n := range nodes {
		g.Go(func() error {
			moved, err := advanceNode(gctx, n, positions[i])
			out[i] = recovery.Advanced{Node: n.Name, To: positions[i].String(), Slots: moved}
			return err
		})
	}
	return out, g.Wait()
}

// advanceNode advances every recovery slot of n that is behind to; it
// returns how many it moved.
func advanceNode(ctx context.Context, n SlotNode, to recovery.LSN) (int, error) {
	conn, err := pgx.Connect(ctx, n.DSN)
	if err != nil {
		return 0, fmt.Errorf("advance recovery slots on %s: connect: %w", n.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	moved := 0
	for _, peer := range n.Peers {
		if peer == n.Name {
			continue
		}
		slot := recovery.RecoverySlotName(recovery.DefaultDB, n.Name, peer)
		// Only forward: advancing a logical slot backwards is an error.
		tag, err := conn.Exec(ctx, `SELECT pg_replication_slot_advance(slot_name, $2::text::pg_lsn)
FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn < $2::text::pg_lsn`, slot, to.String())
		if err != nil {
			return moved, fmt.Errorf("advance recovery slot %s on %s to %s: %w", slot, n.Name, to, err)
		}
		moved += int(tag.RowsAffected())
	}
	return moved, nil
}

// SlotNodesOf lists live nodes of cluster c for AdvanceSlots, each with a
// recovery slot per node of the cluster (dead ones included: their slots
// stay, and what every live node holds is as safe to give up there).
func SlotNodesOf(c *harness.Cluster, live []*harness.Node) []SlotNode {
	all := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		all[i] = n.Name
	}
	out := make([]SlotNode, len(live))
	for i, n := range live {
		out[i] = SlotNode{Name: n.Name, DSN: n.DSN, Peers: all}
	}
	return out
}
