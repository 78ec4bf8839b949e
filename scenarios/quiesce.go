package scenarios

import (
	"context"
	"slices"
	"time"
)

// quiesceTimeout bounds replication draining among the survivors.
const quiesceTimeout = 2 * time.Minute

// quiesce (T5) heals the lags whose both ends survived, then waits until
// every subscription among the survivors replicates and a barrier among
// them passes: every survivor has applied every other's writes.
func (r *run) quiesce(ctx context.Context) error {
	for _, l := range r.lags {
		if slices.Contains(r.alive, l.receiver) && slices.Contains(r.alive, l.origin) {
			if err := l.f.HealAndConfirm(ctx); err != nil {
				return err
			}
			r.endFault(l.receiver)
		}
	}
	survivors := r.nodes(r.alive)
	if len(survivors) < 2 {
		return nil
	}
	return r.cluster.WaitReady(ctx, survivors, quiesceTimeout)
}
