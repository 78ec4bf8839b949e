package bench

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/verify"
)

// rangeHashCompare runs verify's comparison and returns the differing ids.
func rangeHashCompare(ctx context.Context, targets []verify.Target, sharedHost bool) (map[int64]bool, error) {
	rep, err := verify.Convergence(ctx, targets, verify.ConvergenceOptions{Tables: []string{"public." + VerifyTable}, SharedHost: sharedHost})
	if err != nil {
		return nil, err
	}
	found := map[int64]bool{}
	for _, t := range rep.Tables {
		for _, r := range t.Rows {
			if v := r.Key["id"]; v != nil {
				id, err := strconv.ParseInt(*v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("key %s: %w", *v, err)
				}
				found[id] = true
			}
		}
	}
	return found, nil
}

// hashEveryRowOnce hashes every row of the bench table on every target at
// once with PostgreSQL's own row hash, in one aggregate: no ranges, no
// fix-ups for numeric scale or collations. It is the least work any
// comparison that hashes every row on the servers must do, so naive/floor
// bounds the speedup the range hash can reach on this machine.
func hashEveryRowOnce(ctx context.Context, targets []verify.Target, sharedHost bool) error {
	return onEachTarget(ctx, targets, func(ctx context.Context, i int, conn *pgx.Conn) error {
		if sharedHost {
			if _, err := conn.Exec(ctx, "SET max_parallel_workers_per_gather = 0"); err != nil {
				return fmt.Errorf("on %s: %w", targets[i].Name, err)
			}
		}
		var n, h int64
		if err := conn.QueryRow(ctx, "SELECT count(*), bit_xor(hash_record_extended(t.*, 0)) FROM "+VerifyTable+" t").Scan(&n, &h); err != nil {
			return fmt.Errorf("hash every row on %s: %w", targets[i].Name, err)
		}
		return nil
	})
}
