package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/workload"
)

// Bounds of the waits a step makes.
const (
	inFlightWait   = 15 * time.Second // for a transaction in flight on the victim
	largeTxnWait   = 2 * time.Minute  // for a large transaction to reach COMMIT
	restartTimeout = 2 * time.Minute  // for a restarted node to rejoin
	// largeTxnCommitDelay holds the large transaction's WAL flush at
	// COMMIT (as a slow disk would), unless another backend's group commit
	// flushes it first, which under the load is common. The kill, sent
	// from this host the moment COMMIT is on the wire, so lands either
	// before the commit record is durable (the op ends info, not applied
	// anywhere) or while the peers still receive the committed
	// transaction (the op ends ok; present or absent on every survivor).
	// Both are the window the scenario is about; the report tells which.
	largeTxnCommitDelay = 100 * time.Millisecond
)

// lagFault is a lag left injected until quiesce (or until its origin dies).
type lagFault struct {
	f                *fault.Fault
	receiver, origin string
}

func (r *run) doStep(ctx context.Context, s Step) error {
	c := r.cluster
	switch s.Kind {
	case StepLag:
		f := fault.New(fault.Lag(c, s.Node, s.Peer), r.rec)
		if err := f.InjectAndConfirm(ctx); err != nil {
			return err
		}
		r.lags = append(r.lags, &lagFault{f: f, receiver: s.Node, origin: s.Peer})
		r.addFault(s, 0, "")
		return nil
	case StepPause, StepPartition:
		mode := fault.Pause(c, s.Node)
		if s.Kind == StepPartition {
			mode = fault.Partition(c, s.Node)
		}
		f := fault.New(mode, r.rec)
		if err := f.InjectAndConfirm(ctx); err != nil {
			return err
		}
		i := r.addFault(s, 0, "")
		if err := sleepUntil(ctx, time.Now().Add(s.Hold)); err != nil {
			return err
		}
		err := f.HealAndConfirm(ctx)
		r.report.EndFault(i)
		return err
	case StepRestart:
		r.captureBefore(ctx)
		f := fault.New(fault.Kill(c, s.Node), r.rec)
		if err := f.InjectAndConfirm(ctx); err != nil {
			return err
		}
		i := r.addFault(s, 0, "")
		if err := sleepUntil(ctx, time.Now().Add(s.Hold)); err != nil {
			return err
		}
		// Under aliveMu: the restart rewrites the node's DSN, which the
		// slot keeper reads (its rounds wait meanwhile).
		r.aliveMu.Lock()
		err := fault.Restart(ctx, c, s.Node, restartTimeout)
		r.aliveMu.Unlock()
		r.report.EndFault(i)
		return err
	case StepKill:
		r.captureBefore(ctx)
		var f *fault.Fault
		err := r.phase(record.PhaseFault, func() error {
			var inFlight int
			var err error
			f, inFlight, err = fault.KillInFlight(ctx, c, s.Node, r.rec, inFlightWait)
			r.addFault(s, inFlight, "")
			return err
		})
		if err != nil {
			return err
		}
		return r.afterKill(ctx, f, s.Node)
	case StepKillLargeTxn:
		r.captureBefore(ctx)
		return r.killLargeTxn(ctx, s)
	case StepKillRecovery:
		r.killDuringRecovery = s.Node
		return nil
	case StepRejoin:
		return r.rejoin(ctx, s)
	case StepRewindProgress:
		return r.rewindProgress(ctx, s)
	}
	return r.doFaultStep(ctx, s)
}

// killLargeTxn starts a large transaction on the victim and kills the
// victim the moment its COMMIT has been sent.
func (r *run) killLargeTxn(ctx context.Context, s Step) error {
	sent := make(chan struct{})
	outcome := make(chan error, 1)
	target := r.targets([]string{s.Node})[0]
	go func() {
		_, err := workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: target, Rows: workload.MinLargeTxnRows,
			Process: s.Node + "-large", OnCommitSent: func() { close(sent) }, CommitDelay: largeTxnCommitDelay}, r.rec)
		outcome <- err
	}()
	var f *fault.Fault
	err := r.phase(record.PhaseFault, func() error {
		var inFlight int
		var err error
		f, inFlight, err = fault.KillOnSignal(ctx, r.cluster, s.Node, r.rec, sent, 0, largeTxnWait)
		r.addFault(s, inFlight, fmt.Sprintf("large transaction of %d rows committing", workload.MinLargeTxnRows))
		return err
	})
	if err != nil {
		return err
	}
	select {
	case err := <-outcome:
		if err != nil {
			return fmt.Errorf("large transaction on %s: %w", s.Node, err)
		}
	case <-time.After(largeTxnWait):
		return fmt.Errorf("large transaction on %s: no outcome within %s of the kill", s.Node, largeTxnWait)
	}
	return r.afterKill(ctx, f, s.Node)
}

// afterKill confirms the kill (T3 detect) and recovers the node's
// transactions on the survivors (T4).
func (r *run) afterKill(ctx context.Context, f *fault.Fault, node string) error {
	err := r.phase(record.PhaseDetect, func() error { return f.WaitEffective(ctx) })
	r.endFault(node)
	if err != nil {
		return err
	}
	r.markFailed(node)
	return r.phase(record.PhaseRecover, func() error { return r.recover(ctx, node) })
}

func (r *run) addFault(s Step, inFlight int, detail string) int {
	if detail == "" && s.Peer != "" {
		detail = "from " + s.Peer
	}
	return r.report.StartFault(s.Kind, s.Node, inFlight, detail)
}

func (r *run) endFault(node string) { r.report.EndOpenFault(node) }
