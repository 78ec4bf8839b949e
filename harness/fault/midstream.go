package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// WaitApplyInTxn waits (at most timeout) until subscriber's apply worker
// for provider holds a transaction id: it is inside a transaction it
// applies, e.g. a large one just committed on provider. A fault injected
// then lands mid-stream. It returns the worker's pid.
func WaitApplyInTxn(ctx context.Context, c *harness.Cluster, subscriber, provider string, timeout time.Duration) (int, error) {
	n, err := nodeByName(c, subscriber)
	if err != nil {
		return 0, err
	}
	sub := c.Flavor.SubscriptionName(subscriber, provider)
	q := c.Flavor.ApplyWorkerQuery() + " AND a.backend_xid IS NOT NULL"
	var pid int
	what := fmt.Sprintf("the apply worker of %s on %s to be inside a transaction", sub, subscriber)
	err = harness.WaitFor(ctx, what, timeout, 20*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if err := queryRow(ctx, n, 5*time.Second, q, []any{sub}, &pid); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
	return pid, err
}
