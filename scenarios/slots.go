package scenarios

import (
	"context"
	"sync"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

// Recovery slots retain, and a recovery's stream decodes, all WAL since
// they were last advanced. During the load (T1..T4) a slots.Keeper
// advances them continuously, without barriers, to the oldest position a
// member of the cluster may still need (recovery.NextSlotPosition), so
// that a recovery decodes a fraction of a second of WAL, not the run. It runs through
// lags, partitions and kills: a member that cannot be read holds the slots
// that need it, and a killed node's slots stop moving from the kill on.
// Its samples also place each recovery's stream (recoveryInput).

// startSlotKeeper runs the keeper until the returned stop is called; stop
// waits for the round in progress and records the keeper's report.
func (r *run) startSlotKeeper(ctx context.Context) (stop func()) {
	k := &slots.Keeper{Flavor: r.opts.Flavor, Members: r.keeperMembers,
		Logger: r.opts.Logger.With("step", "advance recovery slots")}
	r.keeper = k
	stopRun := inBackground(ctx, k.Run)
	return func() {
		stopRun()
		r.keeper = nil
		rep := k.Report()
		r.keeperReport = &rep
	}
}

// inBackground runs run until the returned stop is called; stop waits for
// it to return.
func inBackground(ctx context.Context, run func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { run(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// keeperMembers are the nodes not lost for good (a restarting or paused
// node stays a member: its slots and its position hold while it cannot be
// read). It runs on the keeper's goroutine.
func (r *run) keeperMembers() []slots.KeeperNode {
	nodes := r.aliveNodes()
	out := make([]slots.KeeperNode, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, slots.KeeperNode{Name: n.Name, DSN: n.DSN})
	}
	return out
}

// aliveNodes are the nodes of alive, read under aliveMu (the keeper's and
// the standby's goroutines call it).
func (r *run) aliveNodes() []*harness.Node {
	r.aliveMu.Lock()
	defer r.aliveMu.Unlock()
	out := make([]*harness.Node, 0, len(r.alive))
	for _, name := range r.alive {
		if n := r.cluster.Node(name); n != nil {
			out = append(out, n)
		}
	}
	return out
}
