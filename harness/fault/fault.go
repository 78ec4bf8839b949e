package fault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Detail is recorded with a fault event (history.FaultEvent.Detail).
type Detail = map[string]any

// Mode is one kind of fault on one target: the actions and the checks.
// A Mode is driven by a Fault, which enforces the order of calls and
// records the events; call a Mode directly only to build another Mode.
type Mode interface {
	// Kind is the fault's name in the history: kill, stop, pause, partition, lag.
	Kind() string
	// Node is the node the fault acts on (the history record's Node).
	Node() string
	// Targets are the nodes affected (a pair for lag, a side for partition).
	Targets() []string
	// StartDetail is sampled right before Inject and recorded with the
	// start event (e.g. in_flight_at_kill).
	StartDetail() Detail
	// Inject does the fault.
	Inject(ctx context.Context) error
	// CheckEffective observes the cluster until the fault's effect is
	// visible, or fails after timeout. It must not trust that Inject ran:
	// a no-op Inject must make it fail.
	CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error)
	// Heal undoes the fault.
	Heal(ctx context.Context) error
	// CheckHealed observes the cluster until the fault is gone and the
	// affected nodes replicate again, or fails after timeout.
	CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error)
}

// ErrNotEffective is returned (wrapped) by WaitEffective when the fault's
// effect could not be observed; ErrNotHealed likewise by WaitHealed.
var (
	ErrNotEffective = errors.New("fault effect not observed")
	ErrNotHealed    = errors.New("fault healing not observed")
)

// Default timeouts of the checks.
const (
	DefaultEffectTimeout = 15 * time.Second
	DefaultHealTimeout   = 90 * time.Second
)

// Fault drives a Mode through its lifecycle, refusing calls out of order
// (ErrOutOfOrder), and records each phase in the history. It is safe for
// concurrent use; calls are serialised.
type Fault struct {
	mode Mode
	rec  *history.Recorder // may be nil

	// EffectTimeout bounds WaitEffective (default DefaultEffectTimeout).
	EffectTimeout time.Duration
	// HealTimeout bounds WaitHealed (default DefaultHealTimeout).
	HealTimeout time.Duration

	call  sync.Mutex // serialises lifecycle calls
	mu    sync.Mutex // guards state, so State() never waits for a check
	state State
}

// New wraps mode; events go to rec, which may be nil.
func New(mode Mode, rec *history.Recorder) *Fault {
	return &Fault{mode: mode, rec: rec, EffectTimeout: DefaultEffectTimeout, HealTimeout: DefaultHealTimeout}
}

// Mode is the wrapped mode.
func (f *Fault) Mode() Mode { return f.mode }

// State is the fault's current state.
func (f *Fault) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *Fault) setState(s State) {
	f.mu.Lock()
	f.state = s
	f.mu.Unlock()
}

func (f *Fault) String() string {
	return fmt.Sprintf("%s %s %v", f.mode.Kind(), f.mode.Node(), f.mode.Targets())
}

// Inject records the start event, then injects the fault.
func (f *Fault) Inject(ctx context.Context) error {
	f.call.Lock()
	defer f.call.Unlock()
	if err := checkTransition("inject", f.State()); err != nil {
		return f.wrap("inject", err)
	}
	f.record(history.FaultStart, f.mode.StartDetail())
	if err := f.mode.Inject(ctx); err != nil {
		f.setState(Invalid)
		return f.wrap("inject", err)
	}
	f.setState(Injected)
	return nil
}

// WaitEffective waits until the fault's effect is observed, then records
// the effective event. On failure the error wraps ErrNotEffective.
func (f *Fault) WaitEffective(ctx context.Context) error {
	f.call.Lock()
	defer f.call.Unlock()
	if err := checkTransition("wait-effective", f.State()); err != nil {
		return f.wrap("wait effective", err)
	}
	detail, err := f.mode.CheckEffective(ctx, f.EffectTimeout)
	if err != nil {
		return f.wrap("wait effective", fmt.Errorf("%w: %w", ErrNotEffective, err))
	}
	f.setState(Effective)
	f.record(history.FaultEffective, detail)
	return nil
}

// Heal records the heal event, then undoes the fault. Heal is also allowed
// after a failed Inject or Heal, as a best-effort cleanup.
func (f *Fault) Heal(ctx context.Context) error {
	f.call.Lock()
	defer f.call.Unlock()
	if err := checkTransition("heal", f.State()); err != nil {
		return f.wrap("heal", err)
	}
	f.record(history.FaultHeal, nil)
	if err := f.mode.Heal(ctx); err != nil {
		f.setState(Invalid)
		return f.wrap("heal", err)
	}
	f.setState(Healing)
	return nil
}

// WaitHealed waits until healing is observed, then records the healed
// event. On failure the error wraps ErrNotHealed.
func (f *Fault) WaitHealed(ctx context.Context) error {
	f.call.Lock()
	defer f.call.Unlock()
	if err := checkTransition("wait-healed", f.State()); err != nil {
		return f.wrap("wait healed", err)
	}
	detail, err := f.mode.CheckHealed(ctx, f.HealTimeout)
	if err != nil {
		return f.wrap("wait healed", fmt.Errorf("%w: %w", ErrNotHealed, err))
	}
	f.setState(Healed)
	f.record(history.FaultHealed, detail)
	return nil
}

// InjectAndConfirm is Inject then WaitEffective.
func (f *Fault) InjectAndConfirm(ctx context.Context) error {
	if err := f.Inject(ctx); err != nil {
		return err
	}
	return f.WaitEffective(ctx)
}

// HealAndConfirm is Heal then WaitHealed.
func (f *Fault) HealAndConfirm(ctx context.Context) error {
	if err := f.Heal(ctx); err != nil {
		return err
	}
	return f.WaitHealed(ctx)
}

func (f *Fault) record(phase history.FaultPhase, detail Detail) {
	if f.rec == nil {
		return
	}
	f.rec.Fault(f.mode.Kind(), f.mode.Node(), history.FaultEvent{Phase: phase, Target: f.mode.Targets(), Detail: detail})
}

func (f *Fault) wrap(step string, err error) error {
	return fmt.Errorf("%s %s on %s: %w", step, f.mode.Kind(), f.mode.Node(), err)
}
