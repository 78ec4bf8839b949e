package scenarios

import (
	"context"

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
// image's metadata only, and starts one probe node only when an answer it
// needs can come from nowhere else (Spock's recovery API); what stays
// unknown is checked where it is used.
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
