package fault

import (
	"errors"
	"fmt"
	"slices"
)

// State is where a Fault is in its lifecycle.
//
//	Ready --Inject--> Injected --WaitEffective--> Effective
//	Injected|Effective --Heal--> Healing --WaitHealed--> Healed
//	Healed --Inject--> Injected (a fault may be injected again)
//	any --Inject/Heal error--> Invalid --Heal--> Healing (best-effort cleanup)
//
// The effect and heal checks only observe the cluster, so their failure
// leaves the state as it was: a fault whose effect was not confirmed can
// still be healed.
type State int

// States of a Fault.
const (
	Ready     State = iota // nothing injected yet
	Injected               // Inject done, effect not confirmed
	Effective              // effect confirmed
	Healing                // Heal done, healing not confirmed
	Healed                 // healing confirmed
	Invalid                // Inject or Heal failed half-way: the cluster state is unknown
)

func (s State) String() string {
	switch s {
	case Ready:
		return "ready"
	case Injected:
		return "injected"
	case Effective:
		return "effective"
	case Healing:
		return "healing"
	case Healed:
		return "healed"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// ErrOutOfOrder is returned (wrapped) when a lifecycle call is not allowed
// in the fault's current state, e.g. Heal before Inject or Inject twice.
var ErrOutOfOrder = errors.New("fault call out of order")

// allowedFrom lists, for each lifecycle step, the states it may start from.
var allowedFrom = map[string][]State{
	"inject":         {Ready, Healed},
	"wait-effective": {Injected, Effective},
	"heal":           {Injected, Effective, Invalid},
	"wait-healed":    {Healing, Healed},
}

func checkTransition(step string, s State) error {
	if slices.Contains(allowedFrom[step], s) {
		return nil
	}
	return fmt.Errorf("%w: %s in state %s (allowed from %v)", ErrOutOfOrder, step, s, allowedFrom[step])
}
