package scenarios

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spockchaos/spockchaos/capability"
	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
)

// Needs maps a run's plan and (resolved) options to the capabilities it
// needs from the image, each with the step or phase that needs it: every
// run needs a supported major and the flavor's extension at up; a step
// whose kind skews a clock needs ClockSkew; --recovery spock needs Spock's
// recovery API at the first kill. Network, process, pause and kill faults
// need nothing inside the node.
func Needs(plan Plan, opts Options) []capability.Need {
	needs := []capability.Need{{Step: "up", Cap: capability.SupportedMajor}, {Step: "up", Cap: capability.FlavorExtension}}
	spockAsked := opts.Recovery == "spock"
	for _, s := range plan.Steps {
		if stepKinds[s.Kind].clock {
			needs = append(needs, capability.Need{Step: s.String(), Cap: capability.ClockSkew})
		}
		if spockAsked && (s.Kind == StepKill || s.Kind == StepKillLargeTxn) {
			needs = append(needs, capability.Need{Step: s.String() + " (recover)", Cap: capability.SpockRecoveryAPI})
			spockAsked = false
		}
	}
	return needs
}

// checkCapabilities refuses, before anything starts, a run whose plan
// needs what the image cannot do (a *capability.Refused). It reads the
// image's metadata, the image's files when a step skews a clock
// (capability.ClockSkewAnswer), and starts one probe node only when an
// answer it needs can come from nowhere else (Spock's recovery API).
func checkCapabilities(ctx context.Context, plan Plan, opts Options) error {
	flavor, err := harness.LookupFlavor(opts.Flavor)
	if err != nil {
		return err
	}
	image := opts.Image
	if image == "" {
		image = harness.ImageFor(flavor, opts.PG)
	}
	needs := Needs(plan, opts)
	var env []string
	if _, recipe := docker.RecipeMajor(image); !recipe {
		if info, err := capability.Inspect(ctx, image); err == nil {
			env = info.Env
		} // a missing image is said by the up phase, in its own words
	}
	have := capability.FromImage(opts.Flavor, image, env)
	if err := capability.Refusal(needs, have, image); err != nil {
		return err
	}
	for _, n := range capability.Unresolved(needs, have) {
		if n.Cap == capability.ClockSkew && !have[n.Cap].Known {
			ans, err := capability.ClockSkewAnswer(ctx, image)
			if err != nil {
				return err
			}
			have[capability.ClockSkew] = ans
			if err := capability.Refusal(needs, have, image); err != nil {
				return err
			}
		}
		if n.Cap != capability.SpockRecoveryAPI {
			continue
		}
		rep, err := capability.Probe(ctx, opts.Flavor, image, opts.PG, func(string) {})
		if err != nil {
			return err
		}
		return capability.Refusal(needs, have.Merge(rep.Have), image)
	}
	return nil
}

// CanRun says whether an image can run a fault kind or a scenario: "yes",
// "no" (Why names the step and capability) or "unknown" (Why says what is
// checked when the run starts).
type CanRun struct {
	Name string `json:"name"`
	Runs string `json:"runs"`
	Why  string `json:"why,omitempty"`
}

// canRun judges needs against have.
func canRun(name string, needs []capability.Need, have capability.Have, image string) CanRun {
	if err := capability.Refusal(needs, have, image); err != nil {
		return CanRun{Name: name, Runs: "no", Why: err.Error()}
	}
	if un := capability.Unresolved(needs, have); len(un) > 0 {
		return CanRun{Name: name, Runs: "unknown", Why: fmt.Sprintf("needs %s (step %q): %s", un[0].Cap, un[0].Step, orUnknown(have[un[0].Cap].Why))}
	}
	return CanRun{Name: name, Runs: "yes"}
}

func orUnknown(s string) string {
	if s == "" {
		return "not known before a run starts"
	}
	return s
}

// FaultKinds says which fault kinds (plan step kinds) an image can run.
func FaultKinds(have capability.Have, image string) []CanRun {
	kinds := slices.Sorted(maps.Keys(stepKinds))
	out := make([]CanRun, 0, len(kinds))
	for _, k := range kinds {
		var needs []capability.Need
		if stepKinds[k].clock {
			needs = append(needs, capability.Need{Step: k, Cap: capability.ClockSkew})
		}
		out = append(out, canRun(k, needs, have, image))
	}
	return out
}

// CatalogOn says which catalog scenarios an image can run with opts
// (flavor, image, --pg, recovery: the scenario's when empty), judging each
// scenario's plan for seed 1.
func CatalogOn(have capability.Have, image string, opts Options) []CanRun {
	var out []CanRun
	for _, spec := range All() {
		if len(spec.Flavors) > 0 && !slices.Contains(spec.Flavors, opts.Flavor) {
			out = append(out, CanRun{Name: spec.Name, Runs: "no", Why: fmt.Sprintf("the scenario runs on flavor %v only", spec.Flavors)})
			continue
		}
		o := opts
		if o.Recovery == "" {
			o.Recovery = spec.Recovery
		}
		plan := NewPlan(spec, 1, spec.Nodes, spec.Load)
		out = append(out, canRun(spec.Name, Needs(plan, o), have, image))
	}
	return out
}
