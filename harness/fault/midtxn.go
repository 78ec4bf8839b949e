package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload/history"
)

// KillInFlight kills once the recorder shows an op in flight on the
// node and records the number in flight, sampled right before the
// signal is sent, as in_flight_at_kill in the kill's start event (an op
// may still be acknowledged while the signal is on its way, so it is
// an upper bound). KillOnSignal kills a delay after a signal, e.g. one
// closed right before a client sends COMMIT. Both resolve the host
// process before they wait, so the kill itself is one syscall.

// KillInFlight kills node at a moment when its clients have transactions
// in flight: it polls rec.InFlight(node) until it is above zero (for at
// most wait), then injects a kill. The number in flight, sampled right
// before the SIGKILL is sent, is recorded in the start event's Detail as
// in_flight_at_kill and returned. The container's init process is resolved
// before the wait, so that the SIGKILL then takes one syscall (see
// hostProcess); through the engine it takes about 100 ms, in which an op
// may still complete. The number is an upper bound of what the kill cut
// off. The fault is returned Injected: confirm it with WaitEffective.
func KillInFlight(ctx context.Context, c *harness.Cluster, node string, rec *history.Recorder, wait time.Duration) (*Fault, int, error) {
	if rec == nil {
		return nil, 0, fmt.Errorf("kill %s mid-transaction: a recorder is required", node)
	}
	host := prepareHostKill(ctx, c, node)
	deadline := time.Now().Add(wait)
	for rec.InFlight(node) == 0 {
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("kill %s mid-transaction: no transaction in flight within %s", node, wait)
		}
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("kill %s mid-transaction: %w", node, ctx.Err())
		case <-time.After(500 * time.Microsecond):
		}
	}
	return killCounting(ctx, c, node, rec, host, Detail{"trigger": "in-flight"})
}

// KillOnSignal kills node delay after signal is closed (e.g. by a client
// right before it sends COMMIT of a large transaction), waiting at most
// wait for the signal. in_flight_at_kill is recorded as for KillInFlight.
func KillOnSignal(ctx context.Context, c *harness.Cluster, node string, rec *history.Recorder, signal <-chan struct{}, delay, wait time.Duration) (*Fault, int, error) {
	host := prepareHostKill(ctx, c, node)
	select {
	case <-signal:
	case <-time.After(wait):
		return nil, 0, fmt.Errorf("kill %s on signal: no signal within %s", node, wait)
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("kill %s on signal: %w", node, ctx.Err())
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("kill %s on signal: %w", node, ctx.Err())
		}
	}
	return killCounting(ctx, c, node, rec, host, Detail{"trigger": "signal", "delay_ms": delay.Milliseconds()})
}

// prepareHostKill resolves node's init process ahead of a timed kill, so
// that the kill is one syscall when the moment comes (nil: not on this
// host, or no such node; the kill then resolves or falls back itself).
func prepareHostKill(ctx context.Context, c *harness.Cluster, node string) *hostProcess {
	n, err := nodeByName(c, node)
	if err != nil {
		return nil
	}
	return resolveHostProcess(ctx, n)
}

func killCounting(ctx context.Context, c *harness.Cluster, node string, rec *history.Recorder, host *hostProcess, extra Detail) (*Fault, int, error) {
	inFlight := 0
	mode := &process{base: base{c: c, kind: "kill", node: node}, signal: "KILL", host: host, startDetail: func() Detail {
		d := Detail{}
		for k, v := range extra {
			d[k] = v
		}
		if rec != nil {
			inFlight = rec.InFlight(node)
			d["in_flight_at_kill"] = inFlight
		}
		return d
	}}
	f := New(mode, rec)
	if err := f.Inject(ctx); err != nil {
		return f, inFlight, err
	}
	return f, inFlight, nil
}
