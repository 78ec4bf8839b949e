package scenarios

import (
	"fmt"
	"slices"
)

// planCheckSeeds are the seeds Register draws each spec's plan for, so
// that a catalog plan CheckPlan refuses fails at start, not mid-run.
const planCheckSeeds = 20

// CheckPlan refuses, before anything starts, a plan the runner could
// only fail on mid-run: a multi-node step of a kind that has none, or
// naming a node twice or outside the plan; a moment (Step.When) its kind
// has not; an overlapping step with no
// group to join, or that may not be in force with a step of its group
// (overlapRefusal).
func CheckPlan(p Plan) error {
	for i, s := range p.Steps {
		if err := checkStepNodes(s, p.Nodes); err != nil {
			return fmt.Errorf("step %q: %w", s, err)
		}
		if err := checkStepMoment(s); err != nil {
			return fmt.Errorf("step %q: %w", s, err)
		}
		if !s.Overlap {
			continue
		}
		if err := checkOverlap(p, i); err != nil {
			return fmt.Errorf("step %q: %w", s, err)
		}
	}
	return nil
}

// checkStepNodes checks Step.Nodes.
func checkStepNodes(s Step, all []string) error {
	if len(s.Nodes) == 0 {
		return nil
	}
	least := 1
	if s.Kind == StepPartition {
		least = 2
	}
	switch {
	case !slices.Contains(multiNodeKinds, s.Kind):
		return fmt.Errorf("%s acts on one node; only %v take several", s.Kind, multiNodeKinds)
	case len(s.Nodes) < least:
		return fmt.Errorf("%s needs at least %d nodes, got %v", s.Kind, least, s.Nodes)
	case s.Node != s.Nodes[0]:
		return fmt.Errorf("node %s is not the first of its nodes %v", s.Node, s.Nodes)
	}
	for i, n := range s.Nodes {
		if !slices.Contains(all, n) {
			return fmt.Errorf("node %s is not one of %v", n, all)
		}
		if slices.Contains(s.Nodes[:i], n) {
			return fmt.Errorf("node %s named twice", n)
		}
	}
	return nil
}

// checkOverlap checks step i, which overlaps: every step before it in its
// group must allow it.
func checkOverlap(p Plan, i int) error {
	s := p.Steps[i]
	if i == 0 {
		return fmt.Errorf("the first step has no step to overlap")
	}
	if stepKinds[s.Kind].parts == nil {
		return fmt.Errorf("%s is not a held fault: it cannot be in force with others", s.Kind)
	}
	for j := i - 1; j >= 0; j-- {
		e := p.Steps[j]
		if stepKinds[e.Kind].parts == nil {
			return fmt.Errorf("%q is not a held fault: nothing can overlap it", e)
		}
		if why := overlapRefusal(e, s, p.Nodes); why != "" {
			return fmt.Errorf("may not start while %q is in force: %s", e, why)
		}
		if !e.Overlap {
			break
		}
	}
	return nil
}

// checkPlans is CheckPlan on s's plans for the first planCheckSeeds seeds
// (Register).
func (s *Spec) checkPlans() error {
	if s.Faults == nil {
		return nil
	}
	for seed := int64(1); seed <= planCheckSeeds; seed++ {
		if err := CheckPlan(NewPlan(s, seed, s.Nodes, s.Load)); err != nil {
			return fmt.Errorf("plan of seed %d: %w", seed, err)
		}
	}
	return nil
}
