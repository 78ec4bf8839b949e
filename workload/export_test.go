package workload

import "context"

// RunStepsForTest runs clients like every workload does, each op being a
// call of step with the client's process and current node (no SQL): the
// runner's stop, budget, reconnect and failover rules without a database.
func RunStepsForTest(ctx context.Context, cfg RunConfig, step func(process, node string)) (Stats, error) {
	return runClients(ctx, cfg, func(c *client) stepFunc {
		return func(context.Context) {
			step(c.process, c.node().Name)
			c.stats.complete(c.node().Name, Outcome{Type: "ok"})
		}
	})
}
