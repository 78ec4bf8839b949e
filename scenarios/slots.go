package scenarios

import (
	"context"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/reports"
)

// Recovery slots retain, and a recovery's clone decodes, all WAL since
// they were last advanced. Left where setup made them, a kill after ten
// minutes of load made recovery decode ten minutes of WAL (measured: 4
// transactions recovered in 30 s after 30 s of load). So, during the
// load, while no fault is in force, the runner advances them at a
// barrier (recovery.AdvanceSlots): every slotAdvanceEvery, and right
// before a step (see slotAdvanceMinGap).
const (
	slotAdvanceEvery = 10 * time.Second
	// slotAdvanceMinGap: right before a step, the slots are advanced once
	// more if the last advance is at least this old, so that a recovery in
	// that step decodes only the WAL of the advance's few seconds. The
	// step then starts that much later than planned (the fault records
	// when it really happened); steps in a short load's first seconds, as
	// in the gate, are never delayed.
	slotAdvanceMinGap = 5 * time.Second
	// slotAdvanceTimeout bounds one advance, barrier included.
	slotAdvanceTimeout = 10 * time.Second
)

// waitAdvancing sleeps until t, advancing the recovery slots every
// slotAdvanceEvery on the way and once more at t when the last advance is
// slotAdvanceMinGap old (each only while the cluster is healthy).
func (r *run) waitAdvancing(ctx context.Context, t time.Time) error {
	for next := r.lastSlotAdvance.Add(slotAdvanceEvery); next.Before(t); next = r.lastSlotAdvance.Add(slotAdvanceEvery) {
		if err := sleepUntil(ctx, next); err != nil {
			return err
		}
		r.advanceSlots(ctx)
	}
	if err := sleepUntil(ctx, t); err != nil {
		return err
	}
	if time.Since(r.lastSlotAdvance) >= slotAdvanceMinGap {
		r.advanceSlots(ctx)
	}
	return nil
}

// advanceSlots advances the live nodes' recovery slots at a barrier,
// unless a lag is in force (its receiver could never pass the barrier).
// A failure is logged and recorded, never fatal: the slots then stay where
// they were, which is always safe.
func (r *run) advanceSlots(ctx context.Context) {
	defer func() { r.lastSlotAdvance = time.Now() }()
	log := r.opts.Logger.With("step", "advance recovery slots")
	for _, l := range r.lags {
		if slices.Contains(r.alive, l.origin) {
			log.Debug("skipped: a lag is in force", "receiver", l.receiver, "origin", l.origin)
			return
		}
	}
	actx, cancel := context.WithTimeout(ctx, slotAdvanceTimeout)
	defer cancel()
	live := r.nodes(r.alive)
	a := reports.SlotAdvance{At: time.Now().UTC()}
	adv, err := recovery.AdvanceSlots(actx, recovery.SlotNodesOf(r.cluster, live), func(ctx context.Context) error {
		return r.cluster.Barrier(ctx, live, slotAdvanceTimeout)
	})
	a.Nodes = adv
	if err != nil {
		a.Error = err.Error()
		log.Warn("recovery slots not advanced", "err", err)
	} else {
		log.Info("recovery slots advanced", "nodes", adv)
	}
	r.report.SlotAdvances = append(r.report.SlotAdvances, a)
}
