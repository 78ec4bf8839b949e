package slots

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery"
)

// PrepareSlots creates, on every node S of the cluster, the publication
// spockchaos_recovery (FOR ALL TABLES) and for every peer X the recovery slot
// RecoverySlotName(db, S, X) (pgoutput), never consumed, and then passes a
// barrier. Call it right after harness.Start, before any load: a slot only
// retains what is written after it exists. It is idempotent.
//
// The barrier is what lets a recovery prove its stream complete: X's
// marker reaches S after S's slots exist, and every peer has it, so every
// survivor's position for X is at or after a transaction of X the stream
// holds (see proveComplete). AdvanceSlots keeps that true.
func PrepareSlots(ctx context.Context, cluster *harness.Cluster) error {
	names := make([]string, len(cluster.Nodes))
	for i, n := range cluster.Nodes {
		names[i] = n.Name
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, n := range cluster.Nodes {
		g.Go(func() error { return PrepareNode(gctx, n.Name, n.DSN, names) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := cluster.Barrier(ctx, cluster.Nodes, prepareBarrierTimeout); err != nil {
		return fmt.Errorf("prepare recovery slots: %w", err)
	}
	return nil
}

// prepareBarrierTimeout bounds PrepareSlots' barrier.
const prepareBarrierTimeout = time.Minute

// PrepareNode is PrepareSlots for one node reachable at dsn, with peers
// being every node name of the cluster (its own is skipped).
func PrepareNode(ctx context.Context, self, dsn string, nodes []string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("prepare recovery slots on %s: connect: %w", self, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// FOR ALL TABLES covers tables created later too; the apply side skips
	// the replication extensions' and the harness's own schemas.
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DO $$BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = %s) THEN
    CREATE PUBLICATION %s FOR ALL TABLES;
  END IF;
END$$`, harness.QuoteLiteral(recovery.PublicationName), pgx.Identifier{recovery.PublicationName}.Sanitize())); err != nil {
		return fmt.Errorf("prepare recovery slots on %s: create publication %s: %w", self, recovery.PublicationName, err)
	}
	for _, peer := range nodes {
		if peer == self {
			continue
		}
		slot := recovery.RecoverySlotName(recovery.DefaultDB, self, peer)
		if _, err := conn.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')
WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`, slot); err != nil {
			return fmt.Errorf("prepare recovery slots on %s: create slot %s: %w", self, slot, err)
		}
	}
	return nil
}
