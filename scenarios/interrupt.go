package scenarios

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
)

// Interruptions: SIGINT or SIGTERM (a harness.Interrupt cause on ctx) and
// the run's timeout (the scenario's, or Options.Timeout) stop the run in
// whatever phase it is; the innermost phase (fault, detect and recover run
// inside load) is noted the moment it happens and stored in run.json as
// interrupted {phase, by, at}, the error says "interrupted by SIGTERM in
// phase recover" or "run timeout 45s exceeded in phase load", and the
// verdict is unknown, also when the signal comes during the report phase
// (which still writes everything, on a context of its own, bounded). The
// cluster is removed; --keep keeps it after a timeout (a hang to inspect)
// but not after a signal. The run id is made before the cluster starts, so
// run.json names it even when the run stopped inside harness.Start.
// Options.HoldPhase ($SPOCKCHAOS_HOLD_PHASE) is a test hook that holds the
// run in one phase (up: once its containers run) until it is stopped, so
// that the per-phase signal specs hit the phase they name every time.

// HoldPhaseEnv names the phase Options.HoldPhase holds in when the option
// is empty (a test hook for the per-phase signal specs; see Options).
const HoldPhaseEnv = "SPOCKCHAOS_HOLD_PHASE"

// phaseTracker knows the phase a run is in: phases nest (fault, detect and
// recover run inside load), so the innermost open one, else the last one
// that started.
type phaseTracker struct {
	mu    sync.Mutex
	stack []string
	last  string
}

func (t *phaseTracker) enter(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stack = append(t.stack, name)
	t.last = name
}

func (t *phaseTracker) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.stack) > 0 {
		t.stack = t.stack[:len(t.stack)-1]
	}
}

func (t *phaseTracker) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.stack); n > 0 {
		return t.stack[n-1]
	}
	return t.last
}

// noteStop records, once, what stopped the run and in which phase: a
// signal (a harness.Interrupt cause) or the run's deadline. Other
// cancellations (the run's own end) are not stops.
func (r *run) noteStop(runCtx context.Context) {
	by := ""
	if in := harness.InterruptOf(runCtx); in != nil {
		by = harness.SignalName(in.Signal)
	} else if errors.Is(context.Cause(runCtx), context.DeadlineExceeded) {
		by = record.StoppedByTimeout
	}
	if by == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped == nil {
		r.stopped = &record.Interruption{Phase: r.phases.current(), By: by, At: time.Now().UTC()}
	}
}

// noteStopIfDone notes a stop now if the run's context is done: a phase
// calls it before it ends, so the innermost phase is named.
func (r *run) noteStopIfDone() {
	if r.runCtx != nil && r.runCtx.Err() != nil {
		r.noteStop(r.runCtx)
	}
}

// stop is what stopped the run (nil: nothing did).
func (r *run) stop() *record.Interruption {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// hold is the HoldPhase test hook: in the named phase it waits until the
// run is interrupted or times out, and returns that as the phase's error
// (the report phase goes on: it must still write the run directory).
// holdLimit bounds it in case nothing ever comes.
func (r *run) hold(phase string) error {
	if r.opts.HoldPhase != phase || r.runCtx == nil {
		return nil
	}
	r.out.linef("holding in phase %s (%s): waiting for a signal or the run's timeout, at most %s\n", phase, HoldPhaseEnv, holdLimit)
	var err error
	select {
	case <-r.runCtx.Done():
		err = fmt.Errorf("held in phase %s: %w", phase, context.Cause(r.runCtx))
	case <-time.After(holdLimit):
		err = fmt.Errorf("held in phase %s for %s (%s) and nothing stopped the run", phase, holdLimit, HoldPhaseEnv)
	}
	if phase == record.PhaseReport {
		return nil
	}
	return err
}

const holdLimit = 2 * time.Minute

// stopError is the run's error when it was stopped.
func (r *run) stopError(s *record.Interruption, err error) error {
	what := "interrupted by " + s.By
	if s.By == record.StoppedByTimeout {
		what = fmt.Sprintf("run timeout %s exceeded", r.opts.Timeout)
	}
	if err == nil {
		return fmt.Errorf("%s in phase %s", what, s.Phase)
	}
	return fmt.Errorf("%s in phase %s: %w", what, s.Phase, err)
}
