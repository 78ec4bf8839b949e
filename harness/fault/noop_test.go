package fault_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// noopInject is the control fault: a real mode whose Inject does nothing.
// Its effect check must fail, or the check proves nothing.
type noopInject struct{ fault.Mode }

func (noopInject) Inject(context.Context) error { return nil }

// expectNoopNotEffective injects the no-op control of mode and expects its
// effect check to fail within a few seconds.
func expectNoopNotEffective(ctx context.Context, mode fault.Mode, rec *history.Recorder) {
	f := fault.New(noopInject{mode}, rec)
	f.EffectTimeout = 3 * time.Second
	Expect(f.Inject(ctx)).To(Succeed())
	err := f.WaitEffective(ctx)
	GinkgoWriter.Printf("no-op %s: %v\n", f, err)
	Expect(err).To(MatchError(fault.ErrNotEffective))
}
