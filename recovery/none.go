package recovery

import (
	"context"
	"time"
)

// None does nothing: the control that proves the checkers catch the
// divergence recovery would have repaired. It never claims that nothing
// needed recovery.
type None struct{}

func (None) Name() string { return "none" }

func (None) Recover(_ context.Context, in Input) (*Result, error) {
	now := time.Now()
	res := &Result{Strategy: "none", FailedNode: in.Failed, PerPair: []Pair{},
		Note:   "recovery not attempted (control): whether anything needed recovery is not known",
		Phases: []Phase{{Name: "none", Start: now, End: now}}}
	for _, s := range in.Survivors {
		res.Survivors = append(res.Survivors, s.Name)
	}
	return res, nil
}
