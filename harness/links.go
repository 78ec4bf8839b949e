package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
	"golang.org/x/sync/errgroup"

	"github.com/spockchaos/spockchaos/docker"
)

// LinkProxies puts a Toxiproxy proxy on every replication link of a
// cluster: subscriber S's subscription to provider P connects to the proxy
// of (S, P), which forwards to P's server. Toxics added to that proxy act
// on that one link; "downstream" is the direction P -> S (the changes),
// "upstream" S -> P (the subscriber's feedback).
//
// The proxies run in this process (toxiproxy's server package), listening
// on the run network's gateway address, which every container reaches; the
// upstream is the provider's address on the run network. See the package
// doc for why here and not in a sidecar.
type LinkProxies struct {
	server *toxiproxy.ApiServer
	host   string // the gateway address the proxies listen on

	mu      sync.Mutex
	proxies map[LinkName]*toxiproxy.Proxy
}

// LinkName names one replication link: Subscriber receives Provider's changes.
type LinkName struct{ Subscriber, Provider string }

func (l LinkName) String() string { return l.Provider + "->" + l.Subscriber }

// Toxic is one toxiproxy toxic (see toxiproxy's README for the types:
// latency {latency, jitter} ms, bandwidth {rate} KB/s, timeout {timeout}
// ms, reset_peer {timeout} ms, slicer, limit_data).
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"` // downstream (provider -> subscriber) or upstream
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// Streams of a link.
const (
	Downstream = "downstream" // the provider's changes to the subscriber
	Upstream   = "upstream"   // the subscriber's feedback to the provider
)

// startLinkProxies starts one proxy per ordered pair of nodes, listening
// on the run network's gateway, and proves from inside every subscriber
// that its proxies reach the provider's server (pg_isready through each).
func (c *Cluster) startLinkProxies(ctx context.Context) error {
	gw, err := c.networkGateway(ctx)
	if err != nil {
		return err
	}
	lp := newLinkProxies(gw)
	c.links = lp
	for _, s := range c.Nodes {
		for _, p := range c.Nodes {
			if s == p {
				continue
			}
			ip, err := NetworkIP(ctx, p)
			if err != nil {
				return err
			}
			if err := lp.add(LinkName{Subscriber: s.Name, Provider: p.Name}, net.JoinHostPort(ip, "5432")); err != nil {
				return err
			}
		}
	}
	// One helper container per link (RunTool, about 0.4 s each): a few
	// at a time.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(3)
	for _, name := range lp.Names() {
		g.Go(func() error { return c.checkLinkReachable(gctx, name) })
	}
	return g.Wait()
}

var quietToxics sync.Once

// newLinkProxies is an empty set of proxies listening on host.
func newLinkProxies(host string) *LinkProxies {
	// Some toxics log to zerolog's global logger, at trace level, on stderr.
	quietToxics.Do(func() { zlog.Logger = zerolog.Nop() })
	return &LinkProxies{
		server:  toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop()),
		host:    host,
		proxies: map[LinkName]*toxiproxy.Proxy{},
	}
}

// add starts the proxy of link name, on a free port, towards upstream.
func (lp *LinkProxies) add(name LinkName, upstream string) error {
	proxy := toxiproxy.NewProxy(lp.server, "link_"+name.Provider+"_"+name.Subscriber, net.JoinHostPort(lp.host, "0"), upstream)
	if err := proxy.Start(); err != nil {
		return fmt.Errorf("start link proxy %s on %s: %w", name, lp.host, err)
	}
	lp.mu.Lock()
	lp.proxies[name] = proxy
	lp.mu.Unlock()
	return nil
}

// checkLinkReachable runs pg_isready in the subscriber's network namespace
// (a helper container, RunTool) through the link's proxy: the host's firewall may drop what containers send to the gateway.
func (c *Cluster) checkLinkReachable(ctx context.Context, name LinkName) error {
	host, port, err := net.SplitHostPort(c.links.listen(name))
	if err != nil {
		return err
	}
	s := c.Node(name.Subscriber)
	res, err := RunTool(ctx, s, Tool{Step: "check link proxy " + name.String(), Cmd: []string{"pg_isready", "-h", host, "-p", port, "-t", "5"}})
	if err != nil {
		return err
	}
	if code, out := res.Code, res.Output; code != 0 {
		return fmt.Errorf("link proxy %s at %s:%s not reachable from %s (pg_isready exit %d: %s): "+
			"does the host's firewall drop traffic from the Docker network to its gateway?", name, host, port, s.Name, code, out)
	}
	return nil
}

// Links is the cluster's link proxies, or nil when it was started without
// Config.LinkProxies.
func (c *Cluster) Links() *LinkProxies { return c.links }

func (lp *LinkProxies) proxy(name LinkName) (*toxiproxy.Proxy, error) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	p, ok := lp.proxies[name]
	if !ok {
		return nil, fmt.Errorf("no link proxy %s", name)
	}
	return p, nil
}

// Listen is the address the link's proxy listens on ("" if no such link).
func (lp *LinkProxies) Listen(name LinkName) string { return lp.listen(name) }

func (lp *LinkProxies) listen(name LinkName) string {
	p, err := lp.proxy(name)
	if err != nil {
		return ""
	}
	p.Lock()
	defer p.Unlock()
	return p.Listen
}

// DSN is the provider DSN the subscriber uses for the link: the provider's
// network DSN with host and port of the link's proxy.
func (lp *LinkProxies) DSN(name LinkName, providerNetworkDSN string) (string, error) {
	host, port, err := net.SplitHostPort(lp.listen(name))
	if err != nil {
		return "", fmt.Errorf("link proxy %s: %w", name, err)
	}
	var kept []string
	for _, kv := range strings.Fields(providerNetworkDSN) {
		if !strings.HasPrefix(kv, "host=") && !strings.HasPrefix(kv, "port=") {
			kept = append(kept, kv)
		}
	}
	return strings.Join(append([]string{"host=" + host, "port=" + port}, kept...), " "), nil
}

// Names lists every link, sorted.
func (lp *LinkProxies) Names() []LinkName {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	out := make([]LinkName, 0, len(lp.proxies))
	for n := range lp.proxies {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// NodeLinks lists every link of node, both directions.
func (lp *LinkProxies) NodeLinks(node string) []LinkName {
	var out []LinkName
	for _, n := range lp.Names() {
		if n.Subscriber == node || n.Provider == node {
			out = append(out, n)
		}
	}
	return out
}

// AddToxic adds t to the link's proxy; it acts on the link's open
// connections at once and on new ones.
func (lp *LinkProxies) AddToxic(name LinkName, t Toxic) error {
	p, err := lp.proxy(name)
	if err != nil {
		return err
	}
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if _, err := p.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("add toxic %s (%s %s) to link %s: %w", t.Name, t.Type, t.Stream, name, err)
	}
	return nil
}

// RemoveToxic removes the toxic called toxic from the link; removing one
// that is not there is not an error (Heal may run twice).
func (lp *LinkProxies) RemoveToxic(ctx context.Context, name LinkName, toxic string) error {
	p, err := lp.proxy(name)
	if err != nil {
		return err
	}
	if err := p.Toxics.RemoveToxic(ctx, toxic); err != nil && !errors.Is(err, toxiproxy.ErrToxicNotFound) {
		return fmt.Errorf("remove toxic %s from link %s: %w", toxic, name, err)
	}
	return nil
}

// ToxicNames lists the toxics on the link.
func (lp *LinkProxies) ToxicNames(name LinkName) []string {
	p, err := lp.proxy(name)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range p.Toxics.GetToxicArray() {
		if w, ok := t.(*toxics.ToxicWrapper); ok {
			out = append(out, w.Name)
		}
	}
	return out
}

// Retarget points every link whose provider is n at n's current address
// (a restarted container may get another one).
func (lp *LinkProxies) Retarget(ctx context.Context, n *Node) error {
	ip, err := NetworkIP(ctx, n)
	if err != nil {
		return err
	}
	upstream := net.JoinHostPort(ip, "5432")
	for _, name := range lp.Names() {
		if name.Provider != n.Name {
			continue
		}
		p, _ := lp.proxy(name)
		p.Lock()
		same := p.Upstream == upstream
		listen, enabled := p.Listen, p.Enabled
		p.Unlock()
		if same {
			continue
		}
		// Update restarts the listener; keep its port, which the DSN names.
		if err := p.Update(&toxiproxy.Proxy{Listen: listen, Upstream: upstream, Enabled: enabled}); err != nil {
			return fmt.Errorf("retarget link proxy %s at %s: %w", name, upstream, err)
		}
	}
	return nil
}

// SetEnabled cuts the link (its proxy closes every connection and
// refuses new ones) or restores it on the same port.
func (lp *LinkProxies) SetEnabled(name LinkName, enabled bool) error {
	p, err := lp.proxy(name)
	if err != nil {
		return err
	}
	if !enabled {
		p.Stop()
		return nil
	}
	p.Lock()
	listen, upstream, on := p.Listen, p.Upstream, p.Enabled
	p.Unlock()
	if on {
		return nil
	}
	if err := p.Update(&toxiproxy.Proxy{Listen: listen, Upstream: upstream, Enabled: true}); err != nil {
		return fmt.Errorf("restore link %s: %w", name, err)
	}
	return nil
}

// Close stops every proxy.
func (lp *LinkProxies) Close() {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	for _, p := range lp.proxies {
		p.Stop()
	}
}

// networkGateway is the run network's gateway address: the host's side of
// the bridge.
func (c *Cluster) networkGateway(ctx context.Context) (string, error) {
	cli, err := docker.Client(ctx)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	res, err := cli.Client.NetworkInspect(ctx, c.network.ID, client.NetworkInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect network of run %s: %w", c.RunID, err)
	}
	for _, cfg := range res.Network.IPAM.Config {
		if cfg.Gateway.IsValid() && cfg.Gateway.Is4() {
			return cfg.Gateway.String(), nil
		}
	}
	return "", fmt.Errorf("network of run %s has no IPv4 gateway", c.RunID)
}

// NetworkIP is the node's address on the run network: the network on
// which the container carries its name as an alias.
func NetworkIP(ctx context.Context, n *Node) (string, error) {
	inspect, err := n.Container.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspect container of %s: %w", n.Name, err)
	}
	for _, ep := range inspect.NetworkSettings.Networks {
		if ep == nil || !ep.IPAddress.IsValid() {
			continue
		}
		if slices.Contains(ep.Aliases, n.Name) || len(inspect.NetworkSettings.Networks) == 1 {
			return ep.IPAddress.String(), nil
		}
	}
	return "", fmt.Errorf("address of %s on the run network: not found", n.Name)
}
