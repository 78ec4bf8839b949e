package fault

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// PlanConfig is what a Plan is chosen from.
type PlanConfig struct {
	// Nodes are the candidate victims (at least 2: the plan also names a
	// survivor). Their order does not matter.
	Nodes []string
	// Kinds are the fault kinds to choose from (default: kill).
	Kinds []string
	// Earliest and Latest bound when the fault happens, from the start of
	// the load phase; the time is jittered uniformly between them.
	Earliest, Latest time.Duration
}

// Plan is the seed's choice of a fault: which kind, which victim, which
// survivor (the one to lag behind the victim, or the partition peer) and
// when. The same seed and config always give the same plan.
type Plan struct {
	Seed     int64
	Kind     string
	Victim   string
	Survivor string
	At       time.Duration
}

// NewPlan chooses a plan from seed.
func NewPlan(seed int64, cfg PlanConfig) (Plan, error) {
	if len(cfg.Nodes) < 2 {
		return Plan{}, fmt.Errorf("fault plan: need at least 2 nodes, got %d", len(cfg.Nodes))
	}
	if cfg.Latest < cfg.Earliest || cfg.Earliest < 0 {
		return Plan{}, fmt.Errorf("fault plan: window [%s, %s] is empty", cfg.Earliest, cfg.Latest)
	}
	nodes := slices.Sorted(slices.Values(cfg.Nodes))
	kinds := cfg.Kinds
	if len(kinds) == 0 {
		kinds = []string{"kill"}
	}
	// PCG seeded by the seed alone: the stream is fixed by the seed and
	// the order of draws below, which must not change.
	r := rand.New(rand.NewPCG(uint64(seed), 0x5370636b))
	p := Plan{Seed: seed}
	p.Kind = kinds[r.IntN(len(kinds))]
	victim := r.IntN(len(nodes))
	p.Victim = nodes[victim]
	rest := slices.Delete(slices.Clone(nodes), victim, victim+1)
	p.Survivor = rest[r.IntN(len(rest))]
	span := cfg.Latest - cfg.Earliest
	jitter := time.Duration(0)
	if span > 0 {
		jitter = time.Duration(r.Int64N(int64(span) + 1))
	}
	p.At = (cfg.Earliest + jitter).Truncate(time.Millisecond)
	return p, nil
}

// String prints the plan in a form that compares equal for equal plans,
// e.g. "seed=7 kind=kill victim=n2 survivor=n3 at=4.187s".
func (p Plan) String() string {
	return fmt.Sprintf("seed=%d kind=%s victim=%s survivor=%s at=%s", p.Seed, p.Kind, p.Victim, p.Survivor, p.At)
}
