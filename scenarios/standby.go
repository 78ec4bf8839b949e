package scenarios

import (
	"context"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

// During the load a slots.Standby keeps a session and a replication
// connection open to every node not lost for good, so that a recovery
// starts without logging in (recoveryInput hands it over; a pair gone
// stale is replaced by a new login there).

// startStandby runs the standby until the returned stop is called; stop
// closes what it kept.
func (r *run) startStandby(ctx context.Context) (stop func()) {
	s := &slots.Standby{Members: r.standbyMembers, Logger: r.opts.Logger.With("step", "recovery standby")}
	r.standby = s
	stopRun := inBackground(ctx, s.Run)
	return func() {
		stopRun()
		r.standby = nil
	}
}

// standbyMembers are the nodes the standby keeps connections to: those
// the keeper reads (aliveNodes).
func (r *run) standbyMembers() []recovery.Survivor {
	nodes := r.aliveNodes()
	out := make([]recovery.Survivor, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, recovery.SurvivorOf(n))
	}
	return out
}
