package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/workload"
)

// Bounds of the waits a step makes.
const (
	inFlightWait   = 15 * time.Second // for a transaction in flight on the victim
	largeTxnWait   = 2 * time.Minute  // for a large transaction to reach COMMIT
	restartTimeout = 2 * time.Minute  // for a restarted node to rejoin
	// largeTxnCommitDelay holds the large transaction's WAL flush at
	// COMMIT (as a slow disk would), unless another backend's group commit
	// flushes it first, which under the load is common. The kill, sent
	// from this host the moment COMMIT is on the wire, so lands either
	// before the commit record is durable (the op ends info, not applied
	// anywhere) or while the peers still receive the committed
	// transaction (the op ends ok; present or absent on every survivor).
	// Both are the window the scenario is about; the report tells which.
	largeTxnCommitDelay = 100 * time.Millisecond
)

// lagFault is a lag left injected until quiesce (or until its origin dies).
type lagFault struct {
	f                *fault.Fault
	receiver, origin string
}

// stepKind is how the runner does one kind of plan step.
type stepKind struct {
	// do runs the step (inside the load phase; a kill also runs the
	// fault, detect and recover phases).
	do func(r *run, ctx context.Context, s Step) error
	// parts, for a held kind (do is then nil), are the faults a step of
	// it injects: the runner injects and confirms each, holds them and
	// heals them, with its group's when the step overlaps (group.go). A
	// held kind may overlap another when overlapFamilies has it.
	parts heldParts
	// links: the step acts on the cluster's links, which must then be
	// routed through link proxies (Plan.NeedsLinkProxies).
	links bool
	// clock: the step skews a server's clock, which must then run under
	// libfaketime (Plan.NeedsClockSkew).
	clock bool
}

// stepKinds maps every step kind a plan may name to how it is done: a new
// kind is one entry here and one function.
var stepKinds = map[string]stepKind{
	StepLag:            {do: (*run).lag},
	StepPause:          {parts: eachNode(fault.Pause, false)},
	StepPartition:      {parts: partitionParts},
	StepRestart:        {parts: eachNode(fault.Kill, true)},
	StepKill:           {do: (*run).kill},
	StepKillLargeTxn:   {do: (*run).killLargeTxn},
	StepKillRecovery:   {do: (*run).killDuringNextRecovery},
	StepRejoin:         {do: (*run).rejoin},
	StepRewindProgress: {do: (*run).rewindProgress},
	StepAddNode:        {do: (*run).addNode},
	StepRemoveNode:     {do: (*run).removeNode},
	StepPlantLeftover:  {do: (*run).plantLeftover},

	StepSlowLink:      {do: (*run).slowLink, links: true},
	StepLinkLatency:   {parts: onePart(linkLatency), links: true},
	StepLinkBandwidth: {parts: onePart(linkBandwidth), links: true},
	StepLinkReset:     {parts: onePart(linkReset), links: true},
	StepLinkLoss:      {parts: onePart(linkLoss)},
	StepClockSkew:     {parts: onePart(clockSkew), clock: true},
	StepKillWalsender: {parts: onePart(killWalsender)},
	StepKillApply:     {parts: onePart(killApply)},
	StepStopApply:     {parts: onePart(stopApply)},

	StepRestartProvider: {do: (*run).restartProvider},
	StepStallProvider:   {do: (*run).stallProvider},
	StepSubRestartCycle: {do: injectIsFaultStep(subRestartCycle)},
	StepSubOptionCycle:  {do: injectIsFaultStep(subOptionCycle)},

	StepCancelApply:     {parts: onePart(cancelApply)},
	StepCancelWalsender: {parts: onePart(cancelWalsender)},
	StepLockApply:       {parts: onePart(lockApply)},

	StepDDL: {do: (*run).ddl},
}

// doStep runs s by its kind's entry in stepKinds: a held kind as a group
// of one.
func (r *run) doStep(ctx context.Context, s Step) error {
	return r.doGroup(ctx, []Step{s})
}

// doGroup runs steps, a group (one step, or a step and the steps that
// overlap it: CheckPlan has allowed them), by their kinds' entries.
func (r *run) doGroup(ctx context.Context, steps []Step) error {
	kind, ok := stepKinds[steps[0].Kind]
	if !ok {
		return fmt.Errorf("unknown step kind %q", steps[0].Kind)
	}
	if kind.parts == nil {
		return kind.do(r, ctx, steps[0])
	}
	return r.runGroup(ctx, steps, r.partsOf)
}

// eachNode is the parts of a step that does mode to each of its nodes
// (Node, or every one of Nodes, together).
func eachNode(mode func(c *harness.Cluster, node string) fault.Mode, restart bool) heldParts {
	return func(c *harness.Cluster, s Step) []heldPart {
		nodes := stepNodes(s)
		var out []heldPart
		for _, n := range nodes {
			p := heldPart{node: n, mode: mode(c, n), restart: restart}
			if len(nodes) > 1 {
				p.detail = "together with " + strings.Join(slices.DeleteFunc(slices.Clone(nodes), func(o string) bool { return o == n }), ",")
			}
			out = append(out, p)
		}
		return out
	}
}

// partitionParts cuts Node off from every other node, or, with Nodes,
// every pair among Nodes.
func partitionParts(c *harness.Cluster, s Step) []heldPart {
	if len(s.Nodes) == 0 {
		return []heldPart{{node: s.Node, mode: fault.Partition(c, s.Node)}}
	}
	var out []heldPart
	for _, pair := range nodePairs(s.Nodes) {
		out = append(out, heldPart{node: pair[0], mode: fault.PartitionPair(c, pair[0], pair[1]),
			detail: fmt.Sprintf("cut from %s (every pair among %s)", pair[1], strings.Join(s.Nodes, ","))})
	}
	return out
}

// onePart is the parts of a kind that injects one fault.
func onePart(held heldFault) heldParts {
	return func(c *harness.Cluster, s Step) []heldPart {
		mode, detail := held(c, s)
		return []heldPart{{node: s.Node, mode: mode, detail: detail}}
	}
}

// lag (StepLag) stops s.Node receiving s.Peer's changes until quiesce (or
// until s.Peer dies).
func (r *run) lag(ctx context.Context, s Step) error {
	f := fault.New(fault.Lag(r.cluster, s.Node, s.Peer), r.rec)
	if err := f.InjectAndConfirm(ctx); err != nil {
		return err
	}
	r.lags = append(r.lags, &lagFault{f: f, receiver: s.Node, origin: s.Peer})
	r.addFault(s, 0, "")
	return nil
}

// kill (StepKill) SIGKILLs s.Node with transactions in flight (the fault
// phase), then detects and recovers (afterKill).
func (r *run) kill(ctx context.Context, s Step) error {
	if err := r.awaitDDL(ctx); err != nil {
		return err
	}
	r.captureBefore(ctx)
	var f *fault.Fault
	err := r.phase(record.PhaseFault, func() error {
		var inFlight int
		var err error
		f, inFlight, err = fault.KillInFlight(ctx, r.cluster, s.Node, r.rec, inFlightWait)
		r.addFault(s, inFlight, "")
		return err
	})
	if err != nil {
		return err
	}
	return r.afterKill(ctx, f, s.Node)
}

// killDuringNextRecovery (StepKillRecovery) arms the kill of survivor
// s.Node during the next recovery (recover).
func (r *run) killDuringNextRecovery(_ context.Context, s Step) error {
	r.killDuringRecovery = s.Node
	return nil
}

// killLargeTxn starts a large transaction on the victim and kills the
// victim the moment its COMMIT has been sent.
func (r *run) killLargeTxn(ctx context.Context, s Step) error {
	if err := r.awaitDDL(ctx); err != nil {
		return err
	}
	r.captureBefore(ctx)
	sent := make(chan struct{})
	outcome := make(chan error, 1)
	target := r.targets([]string{s.Node})[0]
	go func() {
		_, err := workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: target, Rows: workload.MinLargeTxnRows,
			Process: s.Node + "-large", OnCommitSent: func() { close(sent) }, CommitDelay: largeTxnCommitDelay}, r.rec)
		outcome <- err
	}()
	var f *fault.Fault
	err := r.phase(record.PhaseFault, func() error {
		var inFlight int
		var err error
		f, inFlight, err = fault.KillOnSignal(ctx, r.cluster, s.Node, r.rec, sent, 0, largeTxnWait)
		r.addFault(s, inFlight, fmt.Sprintf("large transaction of %d rows committing", workload.MinLargeTxnRows))
		return err
	})
	if err != nil {
		return err
	}
	select {
	case err := <-outcome:
		if err != nil {
			return fmt.Errorf("large transaction on %s: %w", s.Node, err)
		}
	case <-time.After(largeTxnWait):
		return fmt.Errorf("large transaction on %s: no outcome within %s of the kill", s.Node, largeTxnWait)
	}
	return r.afterKill(ctx, f, s.Node)
}

// afterKill confirms the kill (T3 detect) and recovers the node's
// transactions on the survivors (T4).
func (r *run) afterKill(ctx context.Context, f *fault.Fault, node string) error {
	err := r.phase(record.PhaseDetect, func() error { return f.WaitEffective(ctx) })
	r.endFault(node)
	if err != nil {
		return err
	}
	r.markFailed(node)
	return r.phase(record.PhaseRecover, func() error { return r.recover(ctx, node) })
}

func (r *run) addFault(s Step, inFlight int, detail string) int {
	if detail == "" && s.Peer != "" {
		detail = "from " + s.Peer
	}
	return r.report.StartFault(s.Kind, s.Node, inFlight, detail)
}

func (r *run) endFault(node string) { r.report.EndOpenFault(node) }
