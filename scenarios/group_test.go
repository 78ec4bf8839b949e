package scenarios_test

import (
	"context"
	"errors"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/scenarios"
)

// journal is what fake faults did, in order, and what is in force now.
type journal struct {
	mu      sync.Mutex
	events  []string
	inForce map[string]bool
}

func (j *journal) note(ev, node string, inForce bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, ev+" "+node)
	j.inForce[node] = inForce
}

func (j *journal) forced() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for n, on := range j.inForce {
		if on {
			out = append(out, n)
		}
	}
	return out
}

// fakeFault is a fault that touches nothing and notes each call; it can
// be told that its effect is not observed (a planted no-op).
type fakeFault struct {
	j          *journal
	node       string
	noEffect   bool
	injectErr  error
	effectWait time.Duration
}

func (f *fakeFault) Kind() string               { return "fake" }
func (f *fakeFault) Node() string               { return f.node }
func (f *fakeFault) Targets() []string          { return []string{f.node} }
func (f *fakeFault) StartDetail() fault.Detail  { return nil }
func (f *fakeFault) Heal(context.Context) error { f.j.note("heal", f.node, false); return nil }

func (f *fakeFault) Inject(context.Context) error {
	if f.injectErr != nil {
		f.j.note("inject-failed", f.node, false)
		return f.injectErr
	}
	f.j.note("inject", f.node, true)
	return nil
}

func (f *fakeFault) CheckEffective(ctx context.Context, _ time.Duration) (fault.Detail, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(f.effectWait):
	}
	if f.noEffect {
		f.j.note("not-effective", f.node, true)
		return nil, errors.New("marker reached every peer")
	}
	f.j.note("effective", f.node, true)
	return nil, nil
}

func (f *fakeFault) CheckHealed(ctx context.Context, _ time.Duration) (fault.Detail, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	f.j.note("healed", f.node, false)
	return nil, nil
}

var _ = Describe("a group of overlapping steps", func() {
	var j *journal
	var fakes map[string]*fakeFault
	partsOf := func(s scenarios.Step) []scenarios.HeldPart {
		nodes := s.Nodes
		if len(nodes) == 0 {
			nodes = []string{s.Node}
		}
		var out []scenarios.HeldPart
		for _, n := range nodes {
			out = append(out, scenarios.NewHeldPart(n, fakes[n]))
		}
		return out
	}
	BeforeEach(func() {
		j = &journal{inForce: map[string]bool{}}
		fakes = map[string]*fakeFault{}
		for _, n := range []string{"n1", "n2", "n3"} {
			fakes[n] = &fakeFault{j: j, node: n}
		}
	})
	first := scenarios.Step{Kind: scenarios.StepPartition, Node: "n1", Hold: 300 * time.Millisecond}
	second := scenarios.Step{At: 50 * time.Millisecond, Kind: scenarios.StepPause, Node: "n2", Hold: 100 * time.Millisecond, Overlap: true}

	It("keeps both in force together, then heals every fault before confirming any", func() {
		faults, _, err := scenarios.RunGroupBare(context.Background(), []scenarios.Step{first, second}, partsOf)
		Expect(err).NotTo(HaveOccurred())
		Expect(j.events).To(Equal([]string{"inject n1", "effective n1", "inject n2", "effective n2", "heal n2", "heal n1", "healed n1", "healed n2"}))
		Expect(faults).To(HaveLen(2))
		Expect(faults[1].Start).To(BeTemporally("<", faults[0].End), "the second began before the first ended")
		Expect(faults[0].End.Sub(faults[0].Start)).To(BeNumerically(">=", first.Hold))
		Expect(j.forced()).To(BeEmpty())
	})

	It("heals both when the second's effect check fails while the first is in force", func() {
		fakes["n2"].noEffect = true
		faults, _, err := scenarios.RunGroupBare(context.Background(), []scenarios.Step{first, second}, partsOf)
		Expect(err).To(MatchError(ContainSubstring(`step "& t+50ms pause n2 for 100ms"`)))
		Expect(err).To(MatchError(fault.ErrNotEffective))
		Expect(j.events).To(Equal([]string{"inject n1", "effective n1", "inject n2", "not-effective n2", "heal n2", "heal n1", "healed n1", "healed n2"}))
		Expect(j.forced()).To(BeEmpty())
		for _, f := range faults {
			Expect(f.End).NotTo(BeZero(), "%s on %s ended in the run record", f.Kind, f.Node)
		}
	})

	It("heals what was injected when the second's inject fails half-way", func() {
		fakes["n2"].injectErr = errors.New("unable to freeze")
		_, _, err := scenarios.RunGroupBare(context.Background(), []scenarios.Step{first, second}, partsOf)
		Expect(err).To(MatchError(ContainSubstring("unable to freeze")))
		Expect(j.events).To(ContainElements("heal n1", "healed n1", "heal n2"))
		Expect(j.forced()).To(BeEmpty())
	})

	It("runs the heal actions, and skips the confirmations, when the run is stopped during the hold (timeout or signal)", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, out, err := scenarios.RunGroupBare(ctx, []scenarios.Step{first, second}, partsOf)
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(j.events).To(Equal([]string{"inject n1", "effective n1", "inject n2", "effective n2", "heal n2", "heal n1"}))
		Expect(j.forced()).To(BeEmpty())
		Expect(out).To(ContainSubstring("healing fake n1 [n1], fake n2 [n2] before the run stops"))
	})

	It("heals every node of a multi-node step", func() {
		all := scenarios.Step{Kind: scenarios.StepRestart, Node: "n1", Nodes: []string{"n1", "n2", "n3"}, Hold: 10 * time.Millisecond}
		fakes["n3"].noEffect = true
		_, _, err := scenarios.RunGroupBare(context.Background(), []scenarios.Step{all}, partsOf)
		Expect(err).To(MatchError(fault.ErrNotEffective))
		Expect(j.events).To(ContainElements("heal n1", "heal n2", "heal n3"))
		Expect(j.forced()).To(BeEmpty())
	})
})
