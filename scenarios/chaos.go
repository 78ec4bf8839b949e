package scenarios

import (
	"time"
)

// The chaos plan: Jepsen's combined nemesis, in this runner's terms. Every
// fault is a package that knows how to heal itself (each step heals and
// confirms healing before the next starts), and the schedule is a seeded
// random sequence of them, one per chaosSlot of the load's first 80%,
// followed by a lagged kill (a slow link or a disabled subscription, at
// random) so that recovery has work at the end. The kinds are drawn as
// a seeded permutation, so a 90 s load meets nine of the eleven. Steps run one after the
// other, not overlapping: a step that takes longer than its slot delays
// the next (the load goes on until the plan is done). chaos-overlap
// (catalog_overlap.go) draws faults in force together.

// chaosSlot is the load time given to each drawn fault.
const chaosSlot = 7 * time.Second

// chaosKinds are the faults the chaos plan draws from.
var chaosKinds = []string{
	StepPartition, StepPause, StepRestart,
	StepLinkLatency, StepLinkBandwidth, StepLinkReset, StepLinkLoss,
	StepClockSkew, StepKillWalsender, StepKillApply, StepStopApply,
}

// chaosPlan draws the chaos schedule from r.
func chaosPlan(r Rand, nodes []string, load time.Duration) []Step {
	victim := pick(r, nodes)
	lagged := pick(r, nodes, victim)
	end := load * 8 / 10
	// A seeded permutation: each kind at most once per cycle, so that a
	// long enough load draws every one.
	kinds := append([]string(nil), chaosKinds...)
	var steps []Step
	for at, i := load/20, 0; at+chaosSlot <= end-chaosSlot/2; at, i = at+chaosSlot, i+1 {
		k := i % len(kinds)
		if k == 0 {
			shuffle(r, kinds)
		}
		steps = append(steps, chaosStep(r, kinds[k], nodes, jitter(r, at, chaosSlot/4)))
	}
	lag := Step{At: end - 4*time.Second, Kind: StepLag, Node: lagged, Peer: victim}
	if r.IntN(2) == 0 {
		lag.Kind = StepSlowLink
	}
	return append(steps, lag, Step{At: end, Kind: StepKill, Node: victim})
}

// shuffle permutes s with r (Fisher-Yates).
func shuffle(r Rand, s []string) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// chaosStep is one drawn fault of kind at at, with its nodes and size.
func chaosStep(r Rand, kind string, nodes []string, at time.Duration) Step {
	node := pick(r, nodes)
	s := Step{At: at, Kind: kind, Node: node}
	hold := func(lo, spread time.Duration) time.Duration {
		return jitter(r, lo, spread).Round(100 * time.Millisecond)
	}
	switch kind {
	case StepPartition:
		s.Hold = hold(2*time.Second, 2*time.Second)
	case StepPause, StepRestart:
		s.Hold = hold(time.Second, 2*time.Second)
	case StepLinkLatency:
		if r.IntN(2) == 0 { // one link, or every link of node
			s.Peer = pick(r, nodes, node)
		}
		s.Amount = time.Duration(300+r.IntN(8)*100) * time.Millisecond
		s.Hold = hold(2*time.Second, 2*time.Second)
	case StepLinkBandwidth, StepLinkReset, StepLinkLoss:
		s.Peer = pick(r, nodes, node)
		s.Hold = hold(time.Second, 2*time.Second)
	case StepClockSkew:
		s.Amount = time.Duration(5+r.IntN(26)) * time.Second
		if r.IntN(2) == 0 {
			s.Amount = -s.Amount
		}
		s.Hold = hold(2*time.Second, 3*time.Second)
	case StepKillWalsender, StepKillApply:
		s.Peer = pick(r, nodes, node)
	case StepStopApply:
		s.Peer = pick(r, nodes, node)
		s.Hold = hold(time.Second, 2*time.Second)
	}
	return s
}
