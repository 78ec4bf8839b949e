package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
)

// Overlapping faults (group.go, overlap.go): a held step (pause,
// partition, crash-restart, the link, clock and worker faults: a kind
// whose stepKinds entry has parts) marked Overlap joins the group of the
// step before it: it is injected and confirmed at its own At while the
// others are in force, and the group heals together once its last hold
// has passed: every heal action first (latest fault first), then every
// heal confirmed (once every node it restarted accepts connections), so
// that no heal check waits on a fault still in force or a node starting.
// A heal confirmation the server answered by disabling a subscription
// is a note, not an error (heal_disabled.go). Every held step,
// overlapping or not, is a group, and a group heals
// every fault it injected on every path: its holds passing, a failed
// inject or effect check of any of them, the run's timeout or a signal
// (then the heal actions only, bounded by stopHealTimeout; the cluster
// goes next). A later fault's effect is checked with the earlier ones in
// force, so which pairs may overlap is decided by overlapRefusal, by
// family of kind (halt, partition, worker, clock; link faults and kinds
// without a family never overlap) and by the nodes and links each
// touches; CheckPlan refuses the rest before anything starts (Resolve,
// with exit 2) and Register checks each catalog plan for 20 seeds. A
// multi-node step (Step.Nodes: pause or crash-restart every node named,
// together; partition every pair among them) is one fault per node or
// pair, each with its own effect and heal checks, healed as a group.
// The printed plan marks an overlapping step "& " and names every node
// of a multi-node step; run.json's plan gains overlap and nodes only
// where set, and its faults stay one entry per node (start, end), so
// their windows show the overlap to every reader.

// Held steps and their groups: a held step injects one fault or several
// (one per node of a multi-node step), confirms each, keeps them for its
// Hold and heals them. Steps marked Overlap join the group of the step
// before them: each is injected at its own At while the others are in
// force, and the whole group heals together once the last of its holds
// has passed: every heal action first (the latest fault first), then
// every heal confirmed (in injection order), so that no heal check waits
// on a fault of the group that is still in force.
//
// Whatever ends the group (its holds passing, a failed inject or effect
// check, the run's timeout, a signal), every fault it injected is healed
// before runGroup returns. A stopped run only runs the heal actions, on a
// context of their own bounded by stopHealTimeout: the cluster is removed
// next (or kept, after a timeout, with no fault left in force).

// stopHealTimeout bounds the heal actions of a group whose run was
// stopped (timeout, SIGINT, SIGTERM).
const stopHealTimeout = 30 * time.Second

// heldPart is one fault a held step injects.
type heldPart struct {
	node   string // the node the run record names
	mode   fault.Mode
	detail string // what it did, in words (the recorded fault's detail)
	// restart: a kill healed by starting the node again; the node state
	// is captured before it and its DSN is rewritten under aliveMu.
	restart bool
	// effectTimeout, when set, bounds its effect check instead of the
	// fault's default (a check that waits behind a large transaction).
	effectTimeout time.Duration
}

// heldParts builds the faults of a held step on c.
type heldParts func(c *harness.Cluster, s Step) []heldPart

// injected is a part of a group that was injected (or tried to be).
type injected struct {
	part     heldPart
	step     Step
	f        *fault.Fault
	record   int       // index of its run-record fault
	holdTill time.Time // its confirmation plus its step's Hold
}

// runGroup runs steps as one group (the first at once, each other at its
// At), the faults of each from partsOf, and heals them all at the end.
func (r *run) runGroup(ctx context.Context, steps []Step, partsOf func(Step) []heldPart) (err error) {
	var done []*injected
	defer func() { err = errors.Join(err, r.healGroup(ctx, done)) }()
	for i, s := range steps {
		if i > 0 {
			if err := sleepUntil(ctx, r.loadStart.Add(s.At)); err != nil {
				return err
			}
		}
		parts := partsOf(s)
		if r.skipDisabled(s, parts) {
			continue
		}
		for _, p := range parts {
			in, err := r.injectPart(ctx, s, p)
			if in != nil {
				done = append(done, in)
			}
			if err != nil && len(steps) > 1 {
				return fmt.Errorf("step %q: %w", s, err)
			}
			if err != nil {
				return err
			}
		}
	}
	var till time.Time
	for _, in := range done {
		till = laterOf(till, in.holdTill)
	}
	return sleepUntil(ctx, till)
}

// injectPart injects p and confirms it, recording it as a fault of the
// run from the moment it was injected. It returns the part as injected
// whenever Inject was tried, so that the group heals it.
func (r *run) injectPart(ctx context.Context, s Step, p heldPart) (*injected, error) {
	if p.restart {
		r.captureBefore(ctx)
	}
	f := fault.New(p.mode, r.rec)
	if p.restart {
		f.HealTimeout = restartTimeout
	}
	if p.effectTimeout > 0 {
		f.EffectTimeout = p.effectTimeout
	}
	one := s
	one.Node = p.node
	in := &injected{part: p, step: s, f: f, record: -1}
	if err := f.Inject(ctx); err != nil {
		return in, err
	}
	in.record = r.addFault(one, 0, p.detail)
	if err := f.WaitEffective(ctx); err != nil {
		return in, err
	}
	in.holdTill = time.Now().Add(s.Hold)
	return in, nil
}

// healGroup heals every injected fault: the heal actions latest first,
// then (unless the run was stopped) the confirmations in injection order.
// Its errors name each fault's step.
func (r *run) healGroup(ctx context.Context, done []*injected) error {
	if len(done) == 0 {
		return nil
	}
	stopped := ctx.Err() != nil
	if stopped {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), stopHealTimeout)
		defer cancel()
		r.out.linef("healing %s before the run stops\n", partNames(done))
	}
	var errs []error
	for _, in := range slices.Backward(done) {
		if err := r.healAction(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("step %q: %w", in.step, err))
		}
	}
	if !stopped {
		if err := r.waitRestarted(ctx, done); err != nil {
			errs = append(errs, err)
		}
	}
	for _, in := range done {
		if !stopped && in.f.State() == fault.Healing {
			if err := in.f.WaitHealed(ctx); err != nil && !r.healDisabled(ctx, in, err) {
				errs = append(errs, fmt.Errorf("step %q: %w", in.step, err))
			}
		}
		if in.record >= 0 {
			r.report.EndFault(in.record)
		}
	}
	return errors.Join(errs...)
}

// healAction undoes one fault; a restart rewrites the node's DSN, which
// the slot keeper reads, so it runs under aliveMu.
func (r *run) healAction(ctx context.Context, in *injected) error {
	if in.part.restart {
		r.aliveMu.Lock()
		defer r.aliveMu.Unlock()
	}
	return in.f.Heal(ctx)
}

// waitRestarted waits until every node the group restarted accepts
// connections again: another fault's heal check connects to every
// running node, and a node still starting resets its connections.
func (r *run) waitRestarted(ctx context.Context, done []*injected) error {
	for _, in := range done {
		if !in.part.restart || in.f.State() != fault.Healing {
			continue
		}
		n := r.cluster.Node(in.part.node)
		what := fmt.Sprintf("%s to accept connections after its restart (step %q)", in.part.node, in.step)
		err := harness.WaitFor(ctx, what, restartTimeout, 200*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			conn, err := pgx.Connect(cctx, r.dsnNow(n)())
			if err != nil {
				return false, err.Error(), nil
			}
			conn.Close(ctx)
			return true, "", nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func partNames(done []*injected) string {
	names := make([]string, len(done))
	for i, in := range done {
		names[i] = in.f.String()
	}
	return strings.Join(names, ", ")
}
