package pgnode

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/recovery"
)

// catalog is what differs between flavors for the reference strategy: how
// to fence a subscription and where its replication origin's name lives.
// pglogical and Spock both name a subscription's origin after its slot
// (pgl_<db>_<provider>_<subscription> in pglogical), and both keep that name
// in <schema>.subscription.sub_slot_name; it is checked against
// pg_replication_origin before use.
type Catalog struct {
	Schema string // "pglogical" or "spock"
}

func CatalogFor(flavor string) (Catalog, error) {
	switch flavor {
	case "pglogical":
		return Catalog{Schema: "pglogical"}, nil
	case "spock":
		return Catalog{Schema: "spock"}, nil
	default:
		return Catalog{}, fmt.Errorf("no recovery catalog for flavor %q", flavor)
	}
}

// subscriptionName is subscriber's subscription receiving provider's changes.
func SubscriptionName(subscriber, provider string) string {
	return "sub_" + subscriber + "_" + provider
}

// fenceSQL disables a subscription at once (the apply worker exits). Its
// commit does not wait for the disk (synchronous_commit off for the
// session, which replays without waiting too): the fence has to hold only
// while the recovery runs, and a survivor that crashes meanwhile fails the
// recovery anyway. Before success is reported the fence is durable on the
// source (its end marker is flushed after it) and on every target (their
// final flush); a bystander's within wal_writer_delay, as every
// asynchronous commit.
func (c Catalog) FenceSQL() string {
	if c.Schema == "spock" {
		return "SELECT set_config('synchronous_commit', 'off', false), spock.sub_disable($1, true)"
	}
	return "SELECT set_config('synchronous_commit', 'off', false), pglogical.alter_subscription_disable($1, true)"
}

// errNoSubscription means the node has no subscription from the failed
// node: it never received anything from it, so it has nothing to fence.
var errNoSubscription = errors.New("no such subscription")

// originName returns the replication origin through which subscription sub
// applies, verified to exist in pg_replication_origin.
func (c Catalog) OriginName(ctx context.Context, conn *pgx.Conn, sub string) (string, error) {
	origin, _, _, err := c.OriginOf(ctx, conn, sub)
	return origin, err
}

// originOf is originName and, read in the same query, that origin's
// position (originPosition): one round trip where the recovery starts.
func (c Catalog) OriginOf(ctx context.Context, conn *pgx.Conn, sub string) (origin string, remote, local recovery.LSN, err error) {
	var exists bool
	var r, l *string
	q := fmt.Sprintf(`SELECT s.sub_slot_name, o.roname IS NOT NULL, st.remote_lsn::text, st.local_lsn::text FROM %s.subscription s
LEFT JOIN pg_replication_origin o ON o.roname = s.sub_slot_name
LEFT JOIN pg_replication_origin_status st ON st.external_id = s.sub_slot_name WHERE s.sub_name = $1`, pgx.Identifier{c.Schema}.Sanitize())
	if err := conn.QueryRow(ctx, q, sub).Scan(&origin, &exists, &r, &l); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return "", 0, 0, fmt.Errorf("subscription %s: %w", sub, errNoSubscription)
		}
		return "", 0, 0, fmt.Errorf("look up origin of subscription %s: %w", sub, err)
	}
	if !exists {
		return "", 0, 0, fmt.Errorf("subscription %s: origin %s (its slot name) is not in pg_replication_origin", sub, origin)
	}
	if remote, local, err = parsePosition(r, l); err != nil {
		return "", 0, 0, fmt.Errorf("read position of origin %s: %w", origin, err)
	}
	return origin, remote, local, nil
}

// originProgress is how far the node applied the origin (0/0 if never).
func OriginProgress(ctx context.Context, conn *pgx.Conn, origin string) (recovery.LSN, error) {
	remote, _, err := OriginPosition(ctx, conn, origin)
	return remote, err
}

// originPosition reads the origin's remote_lsn (its progress) and
// local_lsn: where, in the node's own WAL, the last commit made under the
// origin ends (0/0 when the node has committed nothing under it since its
// last start, as PostgreSQL rebuilds it only from the commits it replays
// at startup). Both come from one read of the origin's state, which every
// commit under the origin updates together, so local_lsn ends at or past
// every commit counted in remote_lsn.
func OriginPosition(ctx context.Context, conn *pgx.Conn, origin string) (remote, local recovery.LSN, err error) {
	var r, l *string
	err = conn.QueryRow(ctx, positionSQL, origin).Scan(&r, &l)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err == nil {
		remote, local, err = parsePosition(r, l)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read position of origin %s: %w", origin, err)
	}
	return remote, local, nil
}

// positionAfter sends b with a read of origin's position queued last (one
// round trip) and returns it (0/0 if never); an error of b's statements is
// returned as the server gave it.
func PositionAfter(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, origin string) (remote, local recovery.LSN, err error) {
	var r, l *string
	b.Queue(positionSQL, origin).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&r, &l); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return 0, 0, err
	}
	if remote, local, err = parsePosition(r, l); err != nil {
		return 0, 0, fmt.Errorf("read position of origin %s: %w", origin, err)
	}
	return remote, local, nil
}

// progressAfter is positionAfter's remote_lsn: origin's progress.
func ProgressAfter(ctx context.Context, conn *pgx.Conn, b *pgx.Batch, origin string) (recovery.LSN, error) {
	remote, _, err := PositionAfter(ctx, conn, b, origin)
	return remote, err
}

// positionSQL reads an origin's remote_lsn and local_lsn (no row: never
// used since the node's last start).
const positionSQL = "SELECT remote_lsn::text, local_lsn::text FROM pg_replication_origin_status WHERE external_id = $1"

// parsePosition parses an origin's remote_lsn and local_lsn as text; NULL
// (no status row) is 0/0.
func parsePosition(r, l *string) (remote, local recovery.LSN, err error) {
	if r != nil {
		if remote, err = recovery.ParseLSN(*r); err != nil {
			return 0, 0, err
		}
	}
	if l != nil {
		if local, err = recovery.ParseLSN(*l); err != nil {
			return 0, 0, err
		}
	}
	return remote, local, nil
}
