package harness

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// InterfaceSwitcher is a flavor that can point a subscription at another
// DSN of its provider (a node "interface"), without resubscribing.
type InterfaceSwitcher interface {
	// AddInterface records dsn as interface iface of provider, on the
	// subscriber where it runs.
	AddInterface(provider, iface, dsn string) []Statement
	// UseInterface makes subscription connect through iface from now on.
	UseInterface(subscription, iface string) []Statement
}

func (pglogical) AddInterface(provider, iface, dsn string) []Statement {
	return []Statement{{SQL: "SELECT pglogical.alter_node_add_interface($1, $2, $3)", Args: []any{provider, iface, dsn}}}
}

func (pglogical) UseInterface(subscription, iface string) []Statement {
	return []Statement{{SQL: "SELECT pglogical.alter_subscription_interface($1, $2)", Args: []any{subscription, iface}}}
}

func (spock) AddInterface(provider, iface, dsn string) []Statement {
	return []Statement{{SQL: "SELECT spock.node_add_interface($1, $2, $3)", Args: []any{provider, iface, dsn}}}
}

func (spock) UseInterface(subscription, iface string) []Statement {
	return []Statement{{SQL: "SELECT spock.sub_alter_interface($1, $2)", Args: []any{subscription, iface}}}
}

// directInterface names the provider DSN that bypasses the link proxy.
const directInterface = "spockchaos_direct"

// BypassLinkProxies points every subscription of the nodes that answer at
// its provider's own address (the network DSN, as without link proxies),
// then stops the proxies and waits until those links replicate. A cluster
// kept after its run needs it: the proxies live in this process. Nodes
// that do not answer (a killed victim) are left as they are and named in
// the error, after the others were switched.
func (c *Cluster) BypassLinkProxies(ctx context.Context, timeout time.Duration) error {
	if c.links == nil {
		return nil
	}
	sw, ok := c.Flavor.(InterfaceSwitcher)
	if !ok {
		return fmt.Errorf("bypass link proxies of run %s: flavor %s cannot switch a subscription's interface", c.RunID, c.Flavor.Name())
	}
	var live []*Node
	var skipped []string
	for _, s := range c.Nodes {
		if err := c.switchToDirect(ctx, sw, s); err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		live = append(live, s)
	}
	c.links.Close()
	if len(live) >= 2 {
		if err := c.WaitReplicating(ctx, live, timeout); err != nil {
			return fmt.Errorf("bypass link proxies: %w", err)
		}
	}
	if len(skipped) > 0 {
		return fmt.Errorf("bypass link proxies: left as they were: %s", strings.Join(skipped, "; "))
	}
	return nil
}

// switchToDirect repoints every subscription of s at its provider's
// network DSN.
func (c *Cluster) switchToDirect(ctx context.Context, sw InterfaceSwitcher, s *Node) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := s.Connect(cctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(cctx, "SET statement_timeout = '8s'"); err != nil {
		return fmt.Errorf("set statement_timeout on %s: %w", s.Name, err)
	}
	for _, p := range c.Nodes {
		if p == s {
			continue
		}
		sub := c.Flavor.SubscriptionName(s.Name, p.Name)
		stmts := append(sw.AddInterface(p.Name, directInterface, p.NetworkDSN), sw.UseInterface(sub, directInterface)...)
		if err := execStatements(cctx, conn, stmts); err != nil {
			return fmt.Errorf("point %s on %s at %s directly: %w", sub, s.Name, p.Name, err)
		}
	}
	return nil
}
