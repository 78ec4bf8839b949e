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
	return slices.ContainsFunc(p.Steps, func(s Step) bool {
		return slices.Contains([]string{StepSlowLink, StepLinkLatency, StepLinkBandwidth, StepLinkReset}, s.Kind)
	})
}

// NeedsClockSkew reports whether a step of the plan skews a clock, so
// the servers must run under libfaketime.
func (p Plan) NeedsClockSkew() bool {
	return slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepClockSkew })
}

// doFaultStep runs the steps of the kinds above.
func (r *run) doFaultStep(ctx context.Context, s Step) error {
	c := r.cluster
	switch s.Kind {
	case StepSlowLink:
		f := fault.New(fault.SlowLink(c, s.Node, s.Peer), r.rec)
		if err := f.InjectAndConfirm(ctx); err != nil {
			return err
		}
		r.lags = append(r.lags, &lagFault{f: f, receiver: s.Node, origin: s.Peer})
		r.addFault(s, 0, "")
		return nil
	case StepLinkLatency:
		return r.holdFault(ctx, s, fault.LinkLatency(c, s.Node, s.Peer, s.Amount, s.Amount/10))
	case StepLinkBandwidth:
		return r.holdFault(ctx, s, fault.LinkBandwidth(c, s.Node, s.Peer, linkBandwidthKB))
	case StepLinkReset:
		return r.holdFault(ctx, s, fault.LinkReset(c, s.Node, s.Peer))
	case StepLinkLoss:
		return r.holdFault(ctx, s, fault.LinkLoss(c, s.Node, s.Peer, linkLossPercent))
	case StepClockSkew:
		return r.holdFault(ctx, s, fault.ClockSkew(c, s.Node, s.Amount))
	case StepKillWalsender:
		return r.holdFault(ctx, s, fault.KillWalsender(c, s.Peer, s.Node))
	case StepKillApply:
		return r.holdFault(ctx, s, fault.KillApply(c, s.Node, s.Peer))
	case StepStopApply:
		return r.holdFault(ctx, s, fault.StopApply(c, s.Node, s.Peer))
	}
	return fmt.Errorf("unknown step kind %q", s.Kind)
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

// holdFault injects mode and confirms it, keeps it for s.Hold, then heals
// it and confirms that.
func (r *run) holdFault(ctx context.Context, s Step, mode fault.Mode) error {
	f := fault.New(mode, r.rec)
	if err := f.InjectAndConfirm(ctx); err != nil {
		return err
	}
	i := r.addFault(s, 0, faultDetail(s))
	if err := sleepUntil(ctx, time.Now().Add(s.Hold)); err != nil {
		return err
	}
	err := f.HealAndConfirm(ctx)
	r.report.EndFault(i)
	return err
}

// faultDetail says in words what a step of the kinds above did.
func faultDetail(s Step) string {
	scope := "every link of " + s.Node
	if s.Peer != "" {
		scope = "link " + harness.LinkName{Subscriber: s.Node, Provider: s.Peer}.String()
	}
	switch s.Kind {
	case StepLinkLatency:
		return fmt.Sprintf("%s latency on %s", s.Amount, scope)
	case StepLinkBandwidth:
		return fmt.Sprintf("%d KB/s on %s", linkBandwidthKB, scope)
	case StepLinkReset:
		return "connections reset on " + scope
	case StepLinkLoss:
		return fmt.Sprintf("%d%% of the packets dropped on %s", linkLossPercent, strings.Replace(scope, "every link of", "every link into", 1))
	case StepClockSkew:
		return fmt.Sprintf("clock off by %s", s.Amount)
	case StepKillWalsender:
		return "walsender of " + s.Peer + " streaming to " + s.Node
	case StepKillApply, StepStopApply:
		return "apply worker for " + s.Peer
	}
	return ""
}
