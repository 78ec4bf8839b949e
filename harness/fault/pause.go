package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Pause is docker pause; its effect: a SELECT 1 that times out (not
// refused) while the container reports paused.

// pauseProbeTimeout is how long a probe of a paused node waits: short,
// since a frozen server never answers.
const pauseProbeTimeout = time.Second

// pause freezes every process of the node (docker pause, the cgroup
// freezer): the server holds its connections and answers nothing.
type pause struct{ base }

// Pause freezes node's container. Effect: the container is paused and a
// connect + SELECT 1 times out (is not refused). Heal unpauses it; healed
// when it answers again and its subscriptions are replicating.
func Pause(c *harness.Cluster, node string) Mode {
	return &pause{base{c: c, kind: "pause", node: node}}
}

func (p *pause) StartDetail() Detail { return nil }

func (p *pause) Inject(ctx context.Context) error {
	n, err := p.target()
	if err != nil {
		return err
	}
	return pauseContainer(ctx, n)
}

func (p *pause) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := p.target()
	if err != nil {
		return nil, err
	}
	detail := Detail{"probe_timeout_ms": pauseProbeTimeout.Milliseconds()}
	what := fmt.Sprintf("%s to be paused (a query times out)", n.Name)
	err = harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		st, err := containerState(ctx, n)
		if err != nil {
			return false, "", err
		}
		if !st.Paused {
			return false, "container " + string(st.Status), nil
		}
		perr := probe(ctx, n, pauseProbeTimeout)
		if perr == nil {
			return false, "container paused but the server answers", nil
		}
		if !timedOut(perr) {
			return false, "probe failed but did not time out: " + perr.Error(), nil
		}
		detail["probe_error"] = perr.Error()
		return true, "", nil
	})
	return detail, err
}

func (p *pause) Heal(ctx context.Context) error {
	n, err := p.target()
	if err != nil {
		return err
	}
	return unpauseContainer(ctx, n)
}

func (p *pause) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := p.target()
	if err != nil {
		return nil, err
	}
	return checkRejoined(ctx, p.c, n, timeout)
}
