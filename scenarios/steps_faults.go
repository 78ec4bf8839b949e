package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
)

// Link, clock and replication-process fault steps (steps_faults.go)
// start the cluster with what they need, decided from the plan: link
// proxies (harness.Config.LinkProxies) when a step acts on a link,
// libfaketime (harness.Config.ClockSkew) when one skews a clock. Each
// such step is injected, confirmed, held, healed and confirmed healed
// before the next; the slow link, like the lag, stays until quiesce or
// its origin's death. The chaos plan (chaos.go) draws them all.

// Step kinds of the link, clock and replication-process faults (issue 14).
const (
	// StepSlowLink: Node receives Peer's changes through a slow link
	// (latency + bandwidth cap) until quiesce or Peer's death: a lag with
	// the subscription still replicating.
	StepSlowLink = "slow-link"
	// StepLinkLatency: Amount of latency (jitter Amount/10) on the link
	// Peer -> Node, or on every link of Node when Peer is "", for Hold.
	StepLinkLatency = "link-latency"
	// StepLinkBandwidth: the link Peer -> Node (or every link of Node)
	// capped at linkBandwidthKB KB/s for Hold.
	StepLinkBandwidth = "link-bandwidth"
	// StepLinkReset: every connection of the link Peer -> Node (or of
	// every link of Node) reset as data flows, for Hold.
	StepLinkReset = "link-reset"
	// StepLinkLoss: linkLossPercent% of the packets of the link Peer -> Node
	// (or of every link into Node) dropped as they reach Node, for Hold.
	StepLinkLoss = "link-loss"
	// StepClockSkew: Node's clock off by Amount for Hold.
	StepClockSkew = "clock-skew"
	// StepKillWalsender: terminate the walsender on Peer that streams to Node.
	StepKillWalsender = "kill-walsender"
	// StepKillApply: terminate Node's apply worker for Peer's changes.
	StepKillApply = "kill-apply"
	// StepStopApply: SIGSTOP Node's apply worker for Peer's changes for Hold.
	StepStopApply = "stop-apply"
)

// linkBandwidthKB is the cap of a link-bandwidth step; linkLossPercent
// the share of packets a link-loss step drops.
const (
	linkBandwidthKB = 32
	linkLossPercent = 30
)

// NeedsLinkProxies reports whether a step of the plan acts on links, so
// the cluster must route its subscriptions through link proxies.
func (p Plan) NeedsLinkProxies() bool {
	return slices.ContainsFunc(p.Steps, func(s Step) bool { return stepKinds[s.Kind].links })
}

// NeedsClockSkew reports whether a step of the plan skews a clock, so
// the servers must run under libfaketime.
func (p Plan) NeedsClockSkew() bool {
	return slices.ContainsFunc(p.Steps, func(s Step) bool { return stepKinds[s.Kind].clock })
}

// slowLink (StepSlowLink) makes s.Node receive s.Peer's changes through a
// slow link until quiesce (or s.Peer's death), as a lag.
func (r *run) slowLink(ctx context.Context, s Step) error {
	f := fault.New(fault.SlowLink(r.cluster, s.Node, s.Peer), r.rec)
	if err := f.InjectAndConfirm(ctx); err != nil {
		return err
	}
	r.lags = append(r.lags, &lagFault{f: f, receiver: s.Node, origin: s.Peer})
	r.addFault(s, 0, "")
	return nil
}

// heldFault is a fault that holdFaultStep injects for s.Hold and heals:
// its mode, and what it did in words (the recorded fault's detail).
type heldFault func(c *harness.Cluster, s Step) (mode fault.Mode, detail string)

func linkLatency(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.LinkLatency(c, s.Node, s.Peer, s.Amount, s.Amount/10), fmt.Sprintf("%s latency on %s", s.Amount, linkScope(s))
}

func linkBandwidth(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.LinkBandwidth(c, s.Node, s.Peer, linkBandwidthKB), fmt.Sprintf("%d KB/s on %s", linkBandwidthKB, linkScope(s))
}

func linkReset(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.LinkReset(c, s.Node, s.Peer), "connections reset on " + linkScope(s)
}

func linkLoss(c *harness.Cluster, s Step) (fault.Mode, string) {
	scope := strings.Replace(linkScope(s), "every link of", "every link into", 1)
	return fault.LinkLoss(c, s.Node, s.Peer, linkLossPercent), fmt.Sprintf("%d%% of the packets dropped on %s", linkLossPercent, scope)
}

func clockSkew(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.ClockSkew(c, s.Node, s.Amount), fmt.Sprintf("clock off by %s", s.Amount)
}

func killWalsender(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.KillWalsender(c, s.Peer, s.Node), "walsender of " + s.Peer + " streaming to " + s.Node
}

func stopApply(c *harness.Cluster, s Step) (fault.Mode, string) {
	return fault.StopApply(c, s.Node, s.Peer), "apply worker for " + s.Peer
}

// linkScope names the links a link step acts on: one link, or every link
// of s.Node.
func linkScope(s Step) string {
	if s.Peer != "" {
		return "link " + harness.LinkName{Subscriber: s.Node, Provider: s.Peer}.String()
	}
	return "every link of " + s.Node
}

// bypassLinkProxies points a kept cluster's subscriptions past the link
// proxies, which end with this process, so that it keeps replicating.
func (r *run) bypassLinkProxies(ctx context.Context) {
	if r.cluster.Links() == nil {
		return
	}
	if err := r.cluster.BypassLinkProxies(ctx, time.Minute); err != nil {
		r.opts.Logger.Warn("kept cluster: link proxies not bypassed everywhere", "run", r.cluster.RunID, "err", err)
		return
	}
	r.out.linef("kept cluster: subscriptions now connect directly (the link proxies end with this process)\n")
}

// holdFaultStep is the step that injects held's fault and confirms it,
// keeps it for s.Hold, then heals it and confirms that (a group of one:
// healed on every path). A kind whose entry is {parts: onePart(held)}
// instead may also overlap others (overlap.go).
func holdFaultStep(held heldFault) func(r *run, ctx context.Context, s Step) error {
	return func(r *run, ctx context.Context, s Step) error {
		return r.runGroup(ctx, []Step{s}, onePart(held).bind(r.cluster))
	}
}

// bind is the parts of each step on c.
func (h heldParts) bind(c *harness.Cluster) func(Step) []heldPart {
	return func(s Step) []heldPart { return h(c, s) }
}
