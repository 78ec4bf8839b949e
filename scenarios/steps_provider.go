package scenarios

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// Provider and subscription fault steps (steps_provider.go):
// restart-provider restarts Node gracefully and stall-provider freezes
// Peer's walsender to Node for Hold, each right after a 100,000-row
// transaction committed on the provider and once a subscriber's apply
// worker is inside it (a miss is noted in the fault's detail, not an
// error); sub-restart-cycle and sub-option-cycle restart Node's apply
// worker for Peer three times (disable/enable; an interface switch of
// the same DSN). Each is confirmed, healed and confirmed healed before
// the next. They are not in the chaos draw: a new kind there changes
// every seed's chaos plan, and the recorded chaos findings cite seeds.

// Step kinds of the provider and subscription faults (issue 26).
const (
	// StepRestartProvider: Node restarted gracefully (fast shutdown, then
	// start) while a peer applies a large transaction of Node's.
	StepRestartProvider = "restart-provider"
	// StepStallProvider: the walsender on Peer that streams to Node frozen
	// for Hold, while Node applies a large transaction of Peer's.
	StepStallProvider = "stall-provider"
	// StepSubRestartCycle: Node's subscription to Peer disabled and
	// enabled subCycles times, under the load.
	StepSubRestartCycle = "sub-restart-cycle"
	// StepSubOptionCycle: Node's subscription to Peer switched subCycles
	// times between two interfaces of Peer with the same DSN (an option
	// change that restarts its apply worker), under the load.
	StepSubOptionCycle = "sub-option-cycle"
)

const (
	// subCycles is how many times a cycle step restarts the worker.
	subCycles = 3
	// midStreamRows is the size of the large transaction a provider
	// fault lands in: its apply takes seconds.
	midStreamRows = 100000
	// midStreamWait bounds the wait for a subscriber to be inside it.
	midStreamWait = 30 * time.Second
	// midStreamEffectWait bounds a stall's effect check, whose marker
	// reaches the other subscribers once they applied the transaction
	// (11 s under the load was seen, and once over 15 s); it keeps the
	// walsender frozen, so it stays under wal_sender_timeout (60 s).
	midStreamEffectWait = 45 * time.Second
)

// restartProvider (StepRestartProvider) restarts s.Node gracefully while
// its first live peer applies a large transaction of s.Node's.
func (r *run) restartProvider(ctx context.Context, s Step) error {
	peer := ""
	if i := slices.IndexFunc(r.alive, func(n string) bool { return n != s.Node }); i >= 0 {
		peer = r.alive[i]
	}
	detail := r.largeMidStream(ctx, s.Node, peer)
	f := fault.New(fault.RestartProvider(r.cluster, s.Node), r.rec)
	f.EffectTimeout = restartTimeout
	// Recorded first: the node is down from the moment Inject starts.
	i := r.addFault(s, 0, "fast shutdown and start; "+detail)
	// Under aliveMu: the restart rewrites the node's DSN, which the slot
	// keeper reads.
	r.aliveMu.Lock()
	err := f.Inject(ctx)
	r.aliveMu.Unlock()
	if err != nil {
		return err
	}
	if err := f.WaitEffective(ctx); err != nil {
		return err
	}
	err = f.HealAndConfirm(ctx)
	r.report.EndFault(i)
	return err
}

// stallProvider (StepStallProvider) freezes the walsender on s.Peer that
// streams to s.Node, mid-transaction, for s.Hold.
func (r *run) stallProvider(ctx context.Context, s Step) error {
	detail := r.largeMidStream(ctx, s.Peer, s.Node)
	return r.runGroup(ctx, []Step{s}, func(s Step) []heldPart {
		// The effect check's marker reaches the other subscribers behind
		// the large transaction, which they apply meanwhile.
		return []heldPart{{node: s.Node, mode: fault.StallProvider(r.cluster, s.Peer, s.Node), effectTimeout: midStreamEffectWait,
			detail: "walsender of " + s.Peer + " streaming to " + s.Node + " frozen; " + detail}}
	})
}

// injectIsFaultStep is the step of a fault whose Inject does the whole
// fault (the restart cycles): it is recorded before Inject, so that its
// window in the report covers the restarts, then confirmed, healed and
// confirmed healed.
func injectIsFaultStep(held heldFault) func(r *run, ctx context.Context, s Step) error {
	return func(r *run, ctx context.Context, s Step) error {
		mode, detail := held(r.cluster, s)
		if r.skipDisabled(s, []heldPart{{mode: mode}}) {
			return nil
		}
		f := fault.New(mode, r.rec)
		i := r.addFault(s, 0, detail)
		if err := f.InjectAndConfirm(ctx); err != nil {
			if r.faultDisabled(ctx, mode, s, i, "not healed, inject stopped", err) {
				r.report.EndFault(i)
				return nil
			}
			return err
		}
		err := f.HealAndConfirm(ctx)
		if err != nil && r.faultDisabled(ctx, mode, s, i, "healing not observed", err) {
			err = nil
		}
		r.report.EndFault(i)
		return err
	}
}

func subRestartCycle(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.SubRestartCycle(c, s.Node, s.Peer, subCycles), fmt.Sprintf("subscription to %s disabled and enabled %d times", s.Peer, subCycles)
}

func subOptionCycle(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.SubOptionCycle(c, s.Node, s.Peer, subCycles), fmt.Sprintf("subscription to %s switched between two interfaces %d times", s.Peer, subCycles)
}

// largeMidStream commits a large transaction on provider and waits until
// subscriber's apply worker is inside it, so that the fault that follows
// lands mid-stream. It says in words what it got; a miss (no ledger
// workload, a transaction that failed, an apply that was quicker) is
// noted, not an error: the fault still runs under the load.
func (r *run) largeMidStream(ctx context.Context, provider, subscriber string) string {
	if _, ok := r.wl.(*workload.Ledger); !ok || subscriber == "" {
		return "no large transaction (needs the ledger workload and a subscriber)"
	}
	target := r.targets([]string{provider})[0]
	out, err := workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: target, Rows: midStreamRows, Process: provider + "-large"}, r.rec)
	if err != nil || out.Type != history.Ok {
		return fmt.Sprintf("large transaction on %s did not commit (%s)", provider, orText(err, out.Error))
	}
	if _, err := fault.WaitApplyInTxn(ctx, r.cluster, subscriber, provider, midStreamWait); err != nil {
		return fmt.Sprintf("%s not seen inside the large transaction of %d rows: %v", subscriber, midStreamRows, err)
	}
	return fmt.Sprintf("%s inside a large transaction of %d rows", subscriber, midStreamRows)
}

func orText(err error, text string) string {
	if err != nil {
		return err.Error()
	}
	return text
}
