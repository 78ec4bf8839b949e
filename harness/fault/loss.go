package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// LinkLoss drops a random share of a link's packets in the
// subscriber's network namespace (nftables numgen random, matched by the link's source
// address and port; no proxy needed): Toxiproxy works on streams and
// has no packet loss. Its effect: the rule's counter shows dropped
// packets of each faulted link while a 64 KB marker crosses it, and
// the marker still arrives (TCP retransmits).

// linkLoss drops a random share of the packets that reach a subscriber on
// its replication links: an nftables rule in the subscriber's network
// namespace, set from a helper container (harness.RunTool), `numgen
// random mod 100 < percent`, matching each link by the address and port
// its packets come from: the link's proxy on the gateway when the cluster
// has link proxies, else the provider's address and port 5432. TCP retransmits, so the link slows and stutters
// without breaking. Toxiproxy has no packet loss (it works on streams).
type linkLoss struct {
	base    // peer "" = every incoming link of node
	percent int
	table   string // the fault's own nftables table, dropped by Heal
}

// LinkLoss drops percent% of the packets of the link peer -> node as they
// reach node (with peer "": of every link into node). Effect: while a
// 64 KB marker crosses each faulted link, the rule's counter shows
// dropped packets of that link, and the marker still arrives. Heal
// deletes the rule's table; healed when the links replicate and markers
// cross them.
func LinkLoss(c *harness.Cluster, node, peer string, percent int) Mode {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &linkLoss{base: base{c: c, kind: "link-loss", node: node, peer: peer}, percent: percent, table: "spockchaos_loss_" + hex.EncodeToString(b)}
}

func (l *linkLoss) StartDetail() Detail {
	return Detail{"percent": l.percent, "providers": l.providers(), "nft_table": l.table}
}

func (l *linkLoss) providers() []string {
	if l.peer != "" {
		return []string{l.peer}
	}
	var out []string
	for _, n := range l.c.Nodes {
		if n.Name != l.node {
			out = append(out, n.Name)
		}
	}
	return out
}

// source is where the packets of the link provider -> l.node come from.
func (l *linkLoss) source(ctx context.Context, provider string) (string, string, error) {
	if lp := l.c.Links(); lp != nil {
		host, port, err := net.SplitHostPort(lp.Listen(harness.LinkName{Subscriber: l.node, Provider: provider}))
		return host, port, err
	}
	p, err := nodeByName(l.c, provider)
	if err != nil {
		return "", "", err
	}
	ip, err := harness.NetworkIP(ctx, p)
	return ip, "5432", err
}

func (l *linkLoss) Inject(ctx context.Context) error {
	n, err := l.target()
	if err != nil {
		return err
	}
	if l.percent <= 0 || l.percent >= 100 {
		return fmt.Errorf("link loss on %s: percent %d is not in 1..99", l.node, l.percent)
	}
	cmds := [][]string{
		{"nft", "add", "table", "inet", l.table},
		{"nft", "add", "chain", "inet", l.table, "input", "{ type filter hook input priority 0 ; policy accept ; }"},
	}
	for _, p := range l.providers() {
		host, port, err := l.source(ctx, p)
		if err != nil {
			return err
		}
		cmds = append(cmds, []string{"nft", "add", "rule", "inet", l.table, "input", "ip", "saddr", host, "tcp", "sport", port,
			"numgen", "random", "mod", "100", "<", strconv.Itoa(l.percent), "counter", "drop", "comment", `"from ` + p + `"`})
	}
	for _, cmd := range cmds {
		code, out, err := runTool(ctx, n, "add link loss rule", cmd...)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("link loss on %s: %v: exit %d: %s", l.node, cmd, code, out)
		}
	}
	return nil
}

// dropRE reads one rule's comment and counter from `nft list table`.
var dropRE = regexp.MustCompile(`counter packets (\d+) bytes \d+ drop comment "from (\w+)"`)

// missingTableRE: deleting a table already gone (Heal run twice) is fine.
var missingTableRE = regexp.MustCompile(`No such file|does not exist`)

// dropped is the count of packets the fault's rules dropped, per provider.
func (l *linkLoss) dropped(ctx context.Context, n *harness.Node) (map[string]int, error) {
	code, out, err := runTool(ctx, n, "read link loss counters", "nft", "list", "table", "inet", l.table)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("no loss rules on %s (nft list table %s: %s)", n.Name, l.table, out)
	}
	got := map[string]int{}
	for _, m := range dropRE.FindAllStringSubmatch(out, -1) {
		got[m[2]], _ = strconv.Atoi(m[1])
	}
	return got, nil
}

func (l *linkLoss) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := l.target()
	if err != nil {
		return nil, err
	}
	live, _, err := splitLive(ctx, l.c.Nodes)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	arrival := map[string]int64{}
	var drops map[string]int
	for _, p := range l.providers() {
		provider, err := nodeByName(l.c, p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(live, provider) {
			continue
		}
		// Markers until the rule has dropped some of this link's packets:
		// a 64 KB marker is about 50 packets.
		for attempt := 0; ; attempt++ {
			token := newToken("link-loss")
			got, err := markerArrivals(ctx, provider, []*harness.Node{n}, live, token, bandwidthPadKB, timeout-time.Since(start))
			if err != nil {
				return nil, fmt.Errorf("a lossy link must still carry changes: %w", err)
			}
			arrival[p] = got[n.Name].Milliseconds()
			if drops, err = l.dropped(ctx, n); err != nil {
				return nil, err
			}
			if drops[p] > 0 {
				break
			}
			if attempt >= 4 || time.Since(start) > timeout {
				return nil, fmt.Errorf("no packet of the link %s->%s was dropped while %d markers of 64 KB crossed it", p, n.Name, attempt+1)
			}
		}
	}
	if drops == nil {
		return nil, fmt.Errorf("link loss on %s: no live provider to check with", l.node)
	}
	return Detail{"dropped_packets": drops, "marker_arrival_ms": arrival, "percent": l.percent}, nil
}

func (l *linkLoss) Heal(ctx context.Context) error {
	n, err := l.target()
	if err != nil {
		return err
	}
	code, out, err := runTool(ctx, n, "remove link loss rules", "nft", "delete", "table", "inet", l.table)
	if err != nil {
		return err
	}
	if code != 0 && !missingTableRE.MatchString(out) {
		return fmt.Errorf("remove link loss on %s: exit %d: %s", l.node, code, out)
	}
	return nil
}

func (l *linkLoss) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	n, err := l.target()
	if err != nil {
		return nil, err
	}
	if _, err := l.dropped(ctx, n); err == nil {
		return nil, fmt.Errorf("the loss rules %s are still on %s", l.table, n.Name)
	}
	providers, err := l.liveAmong(ctx, l.providers())
	if err != nil {
		return nil, err
	}
	var links []harness.Link
	for _, pn := range providers {
		links = append(links, harness.Link{Subscriber: n, Provider: pn})
	}
	if err := l.c.WaitLinks(ctx, links, timeout); err != nil {
		return nil, err
	}
	for _, link := range links {
		token := newToken("link-loss-healed")
		if err := writeMarker(ctx, link.Provider, token); err != nil {
			return nil, err
		}
		if err := waitMarker(ctx, []*harness.Node{n}, token, link.Provider.Name, timeout-time.Since(start)); err != nil {
			return nil, err
		}
	}
	return Detail{"healed_in_ms": time.Since(start).Milliseconds()}, nil
}
