package recovery

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// catalog is what differs between flavors for the reference strategy: how
// to fence a subscription and where its replication origin's name lives.
// pglogical and Spock both name a subscription's origin after its slot
// (pgl_<db>_<provider>_<subscription> in pglogical), and both keep that name
// in <schema>.subscription.sub_slot_name; it is checked against
// pg_replication_origin before use.
type catalog struct {
	schema string // "pglogical" or "spock"
}

func catalogFor(flavor string) (catalog, error) {
	switch flavor {
	case "pglogical":
		return catalog{schema: "pglogical"}, nil
	case "spock":
		return catalog{schema: "spock"}, nil
	default:
		return catalog{}, fmt.Errorf("no recovery catalog for flavor %q", flavor)
	}
}

// subscriptionName is subscriber's subscription receiving provider's changes.
func subscriptionName(subscriber, provider string) string {
	return "sub_" + subscriber + "_" + provider
}

// fenceSQL disables a subscription at once (the apply worker exits).
func (c catalog) fenceSQL() string {
	if c.schema == "spock" {
		return "SELECT spock.sub_disable($1, true)"
	}
	return "SELECT pglogical.alter_subscription_disable($1, true)"
}

// errNoSubscription means the node has no subscription from the failed
// node: it never received anything from it, so it has nothing to fence.
var errNoSubscription = errors.New("no such subscription")

// originName returns the replication origin through which subscription sub
// applies, verified to exist in pg_replication_origin.
func (c catalog) originName(ctx context.Context, conn *pgx.Conn, sub string) (string, error) {
	var slot string
	q := fmt.Sprintf("SELECT sub_slot_name FROM %s.subscription WHERE sub_name = $1", pgx.Identifier{c.schema}.Sanitize())
	if err := conn.QueryRow(ctx, q, sub).Scan(&slot); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return "", fmt.Errorf("subscription %s: %w", sub, errNoSubscription)
		}
		return "", fmt.Errorf("look up origin of subscription %s: %w", sub, err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = $1)", slot).Scan(&exists); err != nil {
		return "", fmt.Errorf("check origin %s of subscription %s: %w", slot, sub, err)
	}
	if !exists {
		return "", fmt.Errorf("subscription %s: origin %s (its slot name) is not in pg_replication_origin", sub, slot)
	}
	return slot, nil
}

// originProgress is how far the node applied the origin (0/0 if never).
func originProgress(ctx context.Context, conn *pgx.Conn, origin string) (LSN, error) {
	l, err := originStatus(ctx, conn, origin, "remote_lsn")
	if err != nil {
		return 0, fmt.Errorf("read progress of origin %s: %w", origin, err)
	}
	return l, nil
}

// originLocalEnd is where, in the node's own WAL, the last commit made
// under the origin ends (pg_replication_origin_status.local_lsn; 0/0 when
// the node has committed nothing under it since its last start, as
// PostgreSQL rebuilds it only from the commits it replays at startup).
func originLocalEnd(ctx context.Context, conn *pgx.Conn, origin string) (LSN, error) {
	l, err := originStatus(ctx, conn, origin, "local_lsn")
	if err != nil {
		return 0, fmt.Errorf("read local end of origin %s: %w", origin, err)
	}
	return l, nil
}

// originStatus reads one LSN column of the origin's
// pg_replication_origin_status row (0/0 when there is none, or it is null).
func originStatus(ctx context.Context, conn *pgx.Conn, origin, column string) (LSN, error) {
	var s *string
	err := conn.QueryRow(ctx, "SELECT "+column+"::text FROM pg_replication_origin_status WHERE external_id = $1", origin).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && s == nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return ParseLSN(*s)
}
