package scenarios

import (
	"context"
	"sync"

	"github.com/spockchaos/spockchaos/recovery"
)

// During the load a recovery.Standby keeps a session and a replication
// connection open to every node not lost for good, so that a recovery
// starts without logging in (recoveryInput hands it over; a pair gone
// stale is replaced by a new login there).

// startStandby runs the standby until the returned stop is called; stop
// closes what it kept.
func (r *run) startStandby(ctx context.Context) (stop func()) {
	s := &recovery.Standby{Members: r.standbyMembers, Logger: r.opts.Logger.With("step", "recovery standby")}
	r.standby = s
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(sctx) })
	return func() {
		cancel()
		wg.Wait()
		r.standby = nil
	}
}

// standbyMembers are the nodes the standby keeps connections to: those
// the keeper reads (keeperMembers), with their addresses.
func (r *run) standbyMembers() []recovery.Survivor {
	r.aliveMu.Lock()
	defer r.aliveMu.Unlock()
	out := make([]recovery.Survivor, 0, len(r.alive))
	for _, n := range r.nodes(r.alive) {
		out = append(out, recovery.Survivor{Name: n.Name, DSN: n.DSN, DirectDSN: n.DirectDSN})
	}
	return out
}
