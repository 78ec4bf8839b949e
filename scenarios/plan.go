package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/workload"
)

// Fault kinds a plan step may name.
const (
	StepLag          = "lag"                  // Node stops receiving Peer's changes (Peer is the origin)
	StepKill         = "kill"                 // SIGKILL Node with transactions in flight; then detect + recover
	StepKillLargeTxn = "kill-large-txn"       // SIGKILL Node while a large transaction commits on it
	StepPause        = "pause"                // freeze Node for Hold, then thaw it
	StepPartition    = "partition"            // cut Node off from all others for Hold, then heal
	StepRestart      = "crash-restart"        // SIGKILL Node, start it again after Hold; it must catch up
	StepKillRecovery = "kill-during-recovery" // during the next recovery, SIGKILL survivor Node
)

// Step is one fault of a plan, at an offset into the load phase.
type Step struct {
	At   time.Duration `json:"at"`
	Kind string        `json:"kind"`
	Node string        `json:"node"`
	Peer string        `json:"peer,omitempty"`
	Hold time.Duration `json:"hold,omitempty"`
	// Amount is the size of the fault where it has one: a clock offset,
	// a link's latency.
	Amount time.Duration `json:"amount,omitempty"`
	// Nodes, when set, are every node a multi-node step acts on (pause
	// and crash-restart: each of them, together; partition: every pair
	// among them cut); Node is then Nodes[0], so that what reads Node
	// alone still names one (overlap.go).
	Nodes []string `json:"nodes,omitempty"`
	// Overlap: the step starts at At while the steps before it in its
	// group are still in force, instead of after they healed. A group is
	// a step without Overlap and the Overlap steps right after it; it is
	// healed together once the last of its holds has passed (group.go).
	// CheckPlan refuses the pairs whose checks would interfere.
	Overlap bool `json:"overlap,omitempty"`
	// When is the moment of the stream a worker fault strikes at
	// (fault.Moment: "idle", "in-txn"; "" wherever it lands).
	When string `json:"when,omitempty"`
}

// Equal reports whether s and o are the same step (Step holds a slice,
// so == does not compile).
func (s Step) Equal(o Step) bool {
	return s.At == o.At && s.Kind == o.Kind && s.Node == o.Node && s.Peer == o.Peer && s.Hold == o.Hold &&
		s.Amount == o.Amount && slices.Equal(s.Nodes, o.Nodes) && s.Overlap == o.Overlap && s.When == o.When
}

// SameSteps reports whether two plans have the same steps (nil and empty
// are the same: no faults).
func SameSteps(a, b []Step) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.EqualFunc(a, b, Step.Equal))
}

// overlapMark starts the printed form of a step that overlaps the one
// before it.
const overlapMark = "& "

func (s Step) String() string {
	who := s.Node
	if len(s.Nodes) > 0 {
		who = strings.Join(s.Nodes, ",")
	}
	out := fmt.Sprintf("t+%s %s %s", s.At.Round(time.Millisecond), s.Kind, who)
	if s.Overlap {
		out = overlapMark + out
	}
	if s.Peer != "" {
		out += " from " + s.Peer
	}
	if s.Amount != 0 {
		out += fmt.Sprintf(" by %s", s.Amount.Round(time.Millisecond))
	}
	if s.When != "" {
		out += " " + s.When
	}
	if s.Hold > 0 {
		out += fmt.Sprintf(" for %s", s.Hold.Round(time.Millisecond))
	}
	return out
}

// Plan is what a run will do, fixed by the seed before the cluster starts.
type Plan struct {
	Scenario string        `json:"scenario"`
	Seed     int64         `json:"seed"`
	Nodes    []string      `json:"nodes"`
	Workload string        `json:"workload"`
	Load     time.Duration `json:"load"`
	Steps    []Step        `json:"steps"`
	// Keys are the workload's first choices (keys, txn ids) for the seed.
	Keys []string `json:"keys,omitempty"`
}

// String is the printed form two runs compare to show determinism.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s seed=%d nodes=%s workload=%s load=%s\n", p.Scenario, p.Seed, strings.Join(p.Nodes, ","), p.Workload, p.Load)
	if len(p.Steps) == 0 {
		b.WriteString("  no faults\n")
	}
	if len(p.Steps) > 0 {
		b.WriteString("  steps (t+ counts from the start of the load):\n")
	}
	if slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Overlap }) {
		b.WriteString("  (" + overlapMark + "starts while the steps above it in its group are in force; a group heals together after its last hold)\n")
	}
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	if len(p.Keys) > 0 {
		b.WriteString("  first workload choices:\n")
		for _, k := range p.Keys {
			fmt.Fprintf(&b, "    %s\n", k)
		}
	}
	return b.String()
}

// NewPlan derives the plan of spec for seed and n nodes.
func NewPlan(spec *Spec, seed int64, n int, load time.Duration) Plan {
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("n%d", i+1)
	}
	p := Plan{Scenario: spec.Name, Seed: seed, Nodes: nodes, Workload: spec.Workload, Load: load}
	if spec.Faults != nil {
		p.Steps = spec.Faults(planRand(seed), nodes, load)
	}
	// An error here means an unknown workload, which Run reports itself.
	p.Keys, _ = workload.Plan(spec.Workload, seed, nodes, spec.ClientsPerNode, 2)
	return p
}

// planRand is the fault plan's own stream of the seed, so that workload
// choices and fault choices do not shift each other.
func planRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x6661756c74)) // "fault"
}

// jitter returns base plus a seeded offset in [0, spread).
func jitter(r Rand, base, spread time.Duration) time.Duration {
	if spread <= 0 {
		return base
	}
	return base + time.Duration(r.Int64N(int64(spread)))
}

// pick returns one of nodes, chosen by r, never one of except.
func pick(r Rand, nodes []string, except ...string) string {
	var pool []string
	for _, n := range nodes {
		skip := false
		for _, e := range except {
			skip = skip || n == e
		}
		if !skip {
			pool = append(pool, n)
		}
	}
	return pool[r.IntN(len(pool))]
}
