package fault

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Link faults need a cluster started with harness.Config.LinkProxies:
// every subscription then connects through its own Toxiproxy proxy
// (harness.LinkProxies). A fault acts on one link (the changes of peer
// to node, "downstream": one direction) or on every link of a node
// (both directions). Latency and bandwidth prove themselves by marker
// arrival times: a marker written on each provider of a faulted link
// (64 KB of bulk for bandwidth) must cross every faulted link at least
// half the configured extra time later than it crosses the slowest
// unfaulted link at the same moment (when every link is faulted: than
// before the fault, measured by Inject); both figures are recorded
// (arrival_ms_before, arrival_ms_during). Resets and the slow link
// prove themselves by a marker that crosses every unfaulted link but no
// faulted one for a window; the slow link also requires the faulted
// subscription to stay replicating (a lag without a disabled
// subscription: recovery scenarios use it as their lag).

// Defaults of the link faults.
const (
	// DefaultLinkWindow is how long a blocked link's marker must stay away.
	DefaultLinkWindow = 2 * time.Second
	// SlowLinkLatency and SlowLinkRate make the slow link of SlowLink: every
	// change arrives this late, and at most this many KB/s of them, so a
	// busy origin's backlog grows while the subscription stays replicating.
	SlowLinkLatency = 4 * time.Second
	SlowLinkRate    = 64
	// bandwidthPadKB is the bulk of the marker that proves a bandwidth cap.
	bandwidthPadKB = 64
)

// effectKind is how a link fault proves its effect.
type effectKind int

const (
	// delayed: a marker crosses each faulted link at least expect later
	// than it crosses the unfaulted ones (or than before the fault).
	delayed effectKind = iota
	// blocked: a marker crosses no faulted link for the window while it
	// crosses every unfaulted one.
	blocked
)

// linkFault adds toxics to the proxies of some replication links. Either
// one link (the changes of peer to node, one direction) or every link of
// node (both directions: node's changes to its peers and theirs to it).
type linkFault struct {
	base   // peer "" = every link of node
	toxics []harness.Toxic
	effect effectKind
	expect time.Duration // delayed: the least extra arrival time
	padKB  int           // delayed: the marker's bulk
	window time.Duration // blocked: how long a marker must stay away
	// replicating requires the faulted subscriptions to stay replicating
	// (a slow link is not a disabled subscription).
	replicating bool

	before  map[string]int64 // arrival ms per link, measured by Inject
	markers map[string]string
}

// LinkLatency delays the changes on the link peer -> node (or, with peer
// "", on every link of node) by latency, plus or minus jitter. Effect: a
// marker crosses each faulted link at least latency/2 later than the
// unfaulted links (or than before the fault, when every link is faulted).
func LinkLatency(c *harness.Cluster, node, peer string, latency, jitter time.Duration) Mode {
	return &linkFault{base: base{c: c, kind: "link-latency", node: node, peer: peer}, effect: delayed, expect: latency,
		toxics: []harness.Toxic{{Name: "link-latency", Type: "latency", Stream: harness.Downstream,
			Attributes: map[string]any{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()}}}}
}

// LinkBandwidth caps the link peer -> node (or every link of node) at
// rateKB KB/s. Effect: a marker of 64 KB crosses each faulted link at
// least half the time the cap needs for it later than the unfaulted links.
func LinkBandwidth(c *harness.Cluster, node, peer string, rateKB int) Mode {
	expect := time.Duration(float64(bandwidthPadKB) / float64(rateKB) * float64(time.Second))
	return &linkFault{base: base{c: c, kind: "link-bandwidth", node: node, peer: peer}, effect: delayed, expect: expect, padKB: bandwidthPadKB,
		toxics: []harness.Toxic{{Name: "link-bandwidth", Type: "bandwidth", Stream: harness.Downstream,
			Attributes: map[string]any{"rate": rateKB}}}}
}

// LinkReset resets (TCP RST) every connection of the link peer -> node
// (or of every link of node) as soon as data flows on it, again after
// every reconnect. Effect: a marker crosses no faulted link for
// DefaultLinkWindow while it crosses every other. Heal removes the toxic;
// healed when the subscriptions replicate and the markers arrived.
func LinkReset(c *harness.Cluster, node, peer string) Mode {
	return &linkFault{base: base{c: c, kind: "link-reset", node: node, peer: peer}, effect: blocked, window: DefaultLinkWindow,
		toxics: []harness.Toxic{{Name: "link-reset", Type: "reset_peer", Stream: harness.Downstream,
			Attributes: map[string]any{"timeout": 0}}}}
}

// SlowLink is a lag made by the network instead of by disabling a
// subscription: receiver gets origin's changes SlowLinkLatency late and
// at most SlowLinkRate KB/s of them, while every other node gets them at
// once. Effect: a marker written on origin reaches every other node but
// not receiver for DefaultLagWindow, and receiver's subscription to origin
// stays replicating.
func SlowLink(c *harness.Cluster, receiver, origin string) Mode {
	return &linkFault{base: base{c: c, kind: "slow-link", node: receiver, peer: origin}, effect: blocked, window: DefaultLagWindow, replicating: true,
		toxics: []harness.Toxic{
			{Name: "slow-link-latency", Type: "latency", Stream: harness.Downstream,
				Attributes: map[string]any{"latency": SlowLinkLatency.Milliseconds()}},
			{Name: "slow-link-bandwidth", Type: "bandwidth", Stream: harness.Downstream,
				Attributes: map[string]any{"rate": SlowLinkRate}},
		}}
}

func (l *linkFault) StartDetail() Detail {
	d := Detail{"links": linkStrings(l.links()), "toxics": l.toxics}
	if l.peer == "" {
		d["scope"] = "every link of " + l.node
	} else {
		d["scope"] = fmt.Sprintf("changes of %s to %s", l.peer, l.node)
	}
	return d
}

func (l *linkFault) proxies() (*harness.LinkProxies, error) {
	lp := l.c.Links()
	if lp == nil {
		return nil, fmt.Errorf("%s on %s: run %s has no link proxies (start it with harness.Config.LinkProxies)", l.kind, l.node, l.c.RunID)
	}
	return lp, nil
}

// links are the faulted links.
func (l *linkFault) links() []harness.LinkName {
	if l.peer != "" {
		return []harness.LinkName{{Subscriber: l.node, Provider: l.peer}}
	}
	lp := l.c.Links()
	if lp == nil {
		return nil
	}
	return lp.NodeLinks(l.node)
}

func (l *linkFault) Inject(ctx context.Context) error {
	lp, err := l.proxies()
	if err != nil {
		return err
	}
	if l.node == l.peer {
		return fmt.Errorf("%s: node and peer are both %s", l.kind, l.node)
	}
	if l.effect == delayed {
		// The before of "before vs during"; a failure only loses the figure.
		if m, err := l.measure(ctx, 10*time.Second); err == nil {
			l.before = m
		}
	}
	for _, name := range l.links() {
		for _, t := range l.toxics {
			if err := lp.AddToxic(name, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *linkFault) Heal(ctx context.Context) error {
	lp, err := l.proxies()
	if err != nil {
		return err
	}
	for _, name := range l.links() {
		for _, t := range l.toxics {
			if err := lp.RemoveToxic(ctx, name, t.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// providers are the nodes whose markers cross the faulted links.
func (l *linkFault) providers() []string {
	var out []string
	for _, name := range l.links() {
		if !slices.Contains(out, name.Provider) {
			out = append(out, name.Provider)
		}
	}
	return out
}

func (l *linkFault) faulted(name harness.LinkName) bool {
	return slices.Contains(l.links(), name)
}

// measure writes a marker on every provider of the faulted links and
// returns, per link from it to every other live node, how long the marker
// took to arrive (ms).
func (l *linkFault) measure(ctx context.Context, timeout time.Duration) (map[string]int64, error) {
	live, _, err := splitLive(ctx, l.c.Nodes)
	if err != nil {
		return nil, err
	}
	l.markers = map[string]string{}
	out := map[string]int64{}
	for _, p := range l.providers() {
		provider, err := nodeByName(l.c, p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(live, provider) {
			continue
		}
		token := newToken(l.kind)
		arrivals, err := markerArrivals(ctx, provider, others(l.c, provider), live, token, l.padKB, timeout)
		if err != nil {
			return nil, err
		}
		l.markers[p] = token
		for reader, d := range arrivals {
			out[harness.LinkName{Subscriber: reader, Provider: p}.String()] = d.Milliseconds()
		}
	}
	return out, nil
}

func (l *linkFault) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	if _, err := l.proxies(); err != nil {
		return nil, err
	}
	switch l.effect {
	case delayed:
		return l.checkDelayed(ctx, timeout)
	default:
		return l.checkBlocked(ctx, timeout)
	}
}

func (l *linkFault) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	live, _, err := splitLive(ctx, l.c.Nodes)
	if err != nil {
		return nil, err
	}
	var links []harness.Link
	for _, name := range l.links() {
		s, p := l.c.Node(name.Subscriber), l.c.Node(name.Provider)
		if slices.Contains(live, s) && slices.Contains(live, p) {
			links = append(links, harness.Link{Subscriber: s, Provider: p})
		}
	}
	if err := l.c.WaitLinks(ctx, links, timeout); err != nil {
		return nil, err
	}
	arrivals, err := crossMarkers(ctx, links, l.kind+"-healed", l.markers, timeout-time.Since(start))
	if err != nil {
		return nil, err
	}
	return Detail{"arrival_ms_after": arrivals, "healed_in_ms": time.Since(start).Milliseconds()}, nil
}

func linkStrings(links []harness.LinkName) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.String()
	}
	return out
}
