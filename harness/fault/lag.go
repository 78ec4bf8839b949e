package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Lag disables the receiver's one subscription from the origin. Its
// effect: a marker written on the origin reaches every other node but
// not the receiver for DefaultLagWindow. The SQL is chosen by flavor
// name (pglogical or spock), as harness.Flavor has no statement for it.

// DefaultLagWindow is how long the lag effect check watches a marker not
// reach the lagged receiver.
const DefaultLagWindow = 2 * time.Second

// lag stops one node (receiver) from receiving another's (origin) changes
// while every other node keeps receiving them: the receiver's one
// subscription to origin is disabled. This is the asymmetry that makes a
// recovery test non-vacuous.
type lag struct {
	base   // node: the receiver; peer: the origin
	window time.Duration
	marker string // written by the effect check, awaited by the heal check
}

// Lag disables receiver's subscription from origin. Effect: a marker
// written on origin reaches every other node but not receiver within
// DefaultLagWindow. Heal re-enables it; healed when it is replicating and
// the markers written on origin have reached receiver.
func Lag(c *harness.Cluster, receiver, origin string) Mode {
	return &lag{base: base{c: c, kind: "lag", node: receiver, peer: origin}, window: DefaultLagWindow}
}

func (l *lag) subscription() string {
	return l.c.Flavor.SubscriptionName(l.node, l.peer)
}

func (l *lag) StartDetail() Detail {
	return Detail{"receiver": l.node, "origin": l.peer, "subscription": l.subscription()}
}

func (l *lag) nodes() (receiver, origin *harness.Node, err error) {
	if l.node == l.peer {
		return nil, nil, fmt.Errorf("lag: receiver and origin are both %s", l.node)
	}
	if receiver, err = l.target(); err != nil {
		return nil, nil, err
	}
	origin, err = nodeByName(l.c, l.peer)
	return receiver, origin, err
}

func (l *lag) Inject(ctx context.Context) error {
	receiver, _, err := l.nodes()
	if err != nil {
		return err
	}
	return setSubscriptionEnabled(ctx, l.c, receiver, l.subscription(), false)
}

func (l *lag) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	receiver, origin, err := l.nodes()
	if err != nil {
		return nil, err
	}
	token := newToken("lag")
	if err := writeMarker(ctx, origin, token); err != nil {
		return nil, err
	}
	l.marker = token
	start := time.Now()
	// Nodes that are down (an earlier victim) cannot witness anything.
	keepUp, down, err := splitLive(ctx, others(l.c, receiver, origin))
	if err != nil {
		return nil, err
	}
	if err := waitMarker(ctx, keepUp, token, origin.Name, timeout); err != nil {
		return nil, fmt.Errorf("the other nodes do not keep up with %s: %w", origin.Name, err)
	}
	if err := markerAbsentFor(ctx, []*harness.Node{receiver}, token, origin.Name, l.window); err != nil {
		return nil, err
	}
	status, err := subscriptionStatus(ctx, l.c, receiver, l.subscription())
	if err != nil {
		return nil, err
	}
	if status == harness.Replicating {
		return nil, fmt.Errorf("%s on %s is still %s", l.subscription(), receiver.Name, status)
	}
	return Detail{"marker": token, "reached": names(keepUp), "not_reached": receiver.Name, "down": names(down),
		"window_ms": l.window.Milliseconds(), "subscription_status": status, "checked_in_ms": time.Since(start).Milliseconds()}, nil
}

func (l *lag) Heal(ctx context.Context) error {
	receiver, _, err := l.nodes()
	if err != nil {
		return err
	}
	return setSubscriptionEnabled(ctx, l.c, receiver, l.subscription(), true)
}

func (l *lag) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	receiver, origin, err := l.nodes()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := l.c.WaitReplicating(ctx, []*harness.Node{receiver, origin}, timeout); err != nil {
		return nil, err
	}
	token := newToken("lag-healed")
	if err := writeMarker(ctx, origin, token); err != nil {
		return nil, err
	}
	tokens := []string{token}
	if l.marker != "" {
		tokens = append(tokens, l.marker)
	}
	for _, t := range tokens {
		if err := waitMarker(ctx, []*harness.Node{receiver}, t, origin.Name, timeout-time.Since(start)); err != nil {
			return nil, err
		}
	}
	return Detail{"markers": tokens, "caught_up_in_ms": time.Since(start).Milliseconds()}, nil
}
