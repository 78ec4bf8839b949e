package fault_test

import (
	"context"

	"github.com/spockchaos/spockchaos/harness/fault"
)

// noopInject is the control fault: a real mode whose Inject does nothing.
// Its effect check must fail, or the check proves nothing.
type noopInject struct{ fault.Mode }

func (noopInject) Inject(context.Context) error { return nil }
