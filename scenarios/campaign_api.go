package scenarios

import (
	"time"
)

// Exported helpers for the campaign and repro packages, kept in a file of
// their own so the runner's files stay as they are.

// Validate reports whether Run would accept spec with opts (node count,
// flavor, recovery strategy, duration), without starting anything: a
// campaign checks every cell before it runs the first one.
func Validate(spec *Spec, opts Options) error {
	_, err := resolve(spec, opts)
	return err
}

// WithPlan is a copy of spec whose fault plan is exactly steps (whatever
// the seed) and whose clients per node is clients (0 keeps the spec's).
// Repro replays a stored plan with it, and shrink runs smaller plans; the
// copy keeps the name, so reports and checkers treat it as the scenario.
func WithPlan(spec *Spec, steps []Step, clients int) *Spec {
	c := *spec
	fixed := append([]Step(nil), steps...)
	c.Faults = func(Rand, []string, time.Duration) []Step { return append([]Step(nil), fixed...) }
	if clients > 0 {
		c.ClientsPerNode = clients
	}
	return &c
}
