package fault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Partition adds blackhole routes (ip route, from helpers) on both
// sides of every cut link, to the peers' addresses on the run
// network. The host reaches a node through the network gateway, so
// clients keep writing on every side. Its effect is checked by
// pg_isready from the node to each peer failing and a marker written on
// the node reaching no peer for DefaultPartitionWindow.
//
// Partition on a cluster with link proxies also stops the proxies of
// the cut links (they run on the host, which no route inside a node
// cuts); Heal restarts them on the same ports.

// DefaultPartitionWindow is how long the partition effect check watches a
// marker written on the cut-off node not reach its peers.
const DefaultPartitionWindow = 3 * time.Second

// partition cuts node off from peers on the run network, both ways, with
// blackhole routes in the nodes' network namespaces, set from helper
// containers (harness.RunTool): the nodes need no tool and no capability.
// Traffic from the host to the published port comes from the network's
// gateway, not from a peer, so clients can still write on every side.
type partition struct {
	base
	peers  []string // nil: every other node
	window time.Duration
	routes []route            // added by Inject, removed by Heal
	cut    []harness.LinkName // link proxies stopped by Inject, restored by Heal
	marker string             // written by the effect check, awaited by the heal check
}

// route is a blackhole route on node on towards address to.
type route struct {
	on *harness.Node
	to string
}

// Partition cuts node off from every other node. Effect: node cannot open
// a TCP connection to any peer, and a marker written on node reaches no
// peer within DefaultPartitionWindow. Heal removes the routes; healed when
// node reaches its peers, replication runs and the markers arrived.
func Partition(c *harness.Cluster, node string) Mode {
	return &partition{base: base{c: c, kind: "partition", node: node}, window: DefaultPartitionWindow}
}

// PartitionPair cuts only the link between a and b.
func PartitionPair(c *harness.Cluster, a, b string) Mode {
	return &partition{base: base{c: c, kind: "partition", node: a}, peers: []string{b}, window: DefaultPartitionWindow}
}

func (p *partition) StartDetail() Detail { return Detail{"cut_off": p.node, "from": p.peerNames()} }

func (p *partition) Targets() []string { return append([]string{p.node}, p.peerNames()...) }

func (p *partition) peerNames() []string {
	if p.peers != nil {
		return p.peers
	}
	var out []string
	for _, n := range p.c.Nodes {
		if n.Name != p.node {
			out = append(out, n.Name)
		}
	}
	return out
}

func (p *partition) nodes() (*harness.Node, []*harness.Node, error) {
	n, err := p.target()
	if err != nil {
		return nil, nil, err
	}
	var peers []*harness.Node
	for _, name := range p.peerNames() {
		if name == p.node {
			return nil, nil, fmt.Errorf("partition: %s cannot be cut off from itself", name)
		}
		peer, err := nodeByName(p.c, name)
		if err != nil {
			return nil, nil, err
		}
		peers = append(peers, peer)
	}
	return n, peers, nil
}

func (p *partition) Inject(ctx context.Context) error {
	n, peers, err := p.nodes()
	if err != nil {
		return err
	}
	nodeIP, err := harness.NetworkIP(ctx, n)
	if err != nil {
		return err
	}
	for _, peer := range peers {
		peerIP, err := harness.NetworkIP(ctx, peer)
		if err != nil {
			return err
		}
		for _, r := range []route{{on: n, to: peerIP}, {on: peer, to: nodeIP}} {
			if err := routeCmd(ctx, r, "add"); err != nil {
				return err
			}
			p.routes = append(p.routes, r)
		}
	}
	// Proxied links go through the host, which no route inside a node
	// cuts: stop their proxies too.
	if links := p.c.Links(); links != nil {
		for _, peer := range peers {
			for _, name := range []harness.LinkName{{Subscriber: n.Name, Provider: peer.Name}, {Subscriber: peer.Name, Provider: n.Name}} {
				if err := links.SetEnabled(name, false); err != nil {
					return err
				}
				p.cut = append(p.cut, name)
			}
		}
	}
	return nil
}

// routeCmd adds or deletes the blackhole route r.
func routeCmd(ctx context.Context, r route, verb string) error {
	code, out, err := runTool(ctx, r.on, verb+" blackhole route to "+r.to, "ip", "route", verb, "blackhole", r.to+"/32")
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("ip route %s blackhole %s on %s: exit %d: %s", verb, r.to, r.on.Name, code, out)
	}
	return nil
}

// reachable reports whether from can open a connection to the server of
// address ip (pg_isready exit 0 means the server accepts connections).
func reachable(ctx context.Context, from *harness.Node, ip string) (bool, string, error) {
	code, out, err := runTool(ctx, from, "check reachability of "+ip, "pg_isready", "-h", ip, "-p", "5432", "-t", "2")
	if err != nil {
		return false, "", err
	}
	return code == 0, out, nil
}

func (p *partition) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, peers, err := p.nodes()
	if err != nil {
		return nil, err
	}
	detail := Detail{}
	for _, peer := range peers {
		ip, err := harness.NetworkIP(ctx, peer)
		if err != nil {
			return nil, err
		}
		ok, out, err := reachable(ctx, n, ip)
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, fmt.Errorf("%s still reaches %s (%s): %s", n.Name, peer.Name, ip, out)
		}
		detail["connect_"+peer.Name] = out
	}
	token := newToken("partition")
	if err := writeMarker(ctx, n, token); err != nil {
		return nil, fmt.Errorf("host access to the cut-off node: %w", err)
	}
	p.marker = token
	if err := markerAbsentFor(ctx, peers, token, n.Name, min(p.window, timeout)); err != nil {
		return nil, err
	}
	detail["marker"] = token
	detail["window_ms"] = min(p.window, timeout).Milliseconds()
	return detail, nil
}

func (p *partition) Heal(ctx context.Context) error {
	var failed []string
	var kept []route
	for _, r := range p.routes {
		if err := routeCmd(ctx, r, "del"); err != nil {
			failed = append(failed, err.Error())
			kept = append(kept, r)
		}
	}
	p.routes = kept
	var stillCut []harness.LinkName
	for _, name := range p.cut {
		if err := p.c.Links().SetEnabled(name, true); err != nil {
			failed = append(failed, err.Error())
			stillCut = append(stillCut, name)
		}
	}
	p.cut = stillCut
	if len(failed) > 0 {
		return fmt.Errorf("remove partition routes: %s", strings.Join(failed, "; "))
	}
	return nil
}

func (p *partition) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, peers, err := p.nodes()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for _, peer := range peers {
		ip, err := harness.NetworkIP(ctx, peer)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("%s to reach %s again", n.Name, peer.Name)
		err = harness.WaitFor(ctx, what, timeout, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			ok, out, err := reachable(ctx, n, ip)
			return ok, out, err
		})
		if err != nil {
			return nil, err
		}
	}
	if err := p.c.WaitReplicating(ctx, append([]*harness.Node{n}, peers...), timeout-time.Since(start)); err != nil {
		return nil, err
	}
	token := newToken("partition-healed")
	if err := writeMarker(ctx, n, token); err != nil {
		return nil, err
	}
	tokens := []string{token}
	if p.marker != "" {
		tokens = append(tokens, p.marker)
	}
	for _, t := range tokens {
		if err := waitMarker(ctx, peers, t, n.Name, timeout-time.Since(start)); err != nil {
			return nil, err
		}
	}
	return Detail{"markers": tokens, "converged_in_ms": time.Since(start).Milliseconds()}, nil
}
