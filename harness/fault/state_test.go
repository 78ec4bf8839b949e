package fault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/workload/history"
)

// fakeMode records the calls it gets; its checks pass only when the
// matching action ran, like a real fault's observations would.
type fakeMode struct {
	calls     []string
	injected  bool
	failHeal  bool
	failCheck bool
}

func (m *fakeMode) Kind() string              { return "fake" }
func (m *fakeMode) Node() string              { return "n1" }
func (m *fakeMode) Targets() []string         { return []string{"n1"} }
func (m *fakeMode) StartDetail() fault.Detail { return fault.Detail{"k": "v"} }
func (m *fakeMode) Inject(context.Context) error {
	m.calls = append(m.calls, "inject")
	m.injected = true
	return nil
}
func (m *fakeMode) Heal(context.Context) error {
	m.calls = append(m.calls, "heal")
	if m.failHeal {
		return errors.New("heal broke")
	}
	m.injected = false
	return nil
}
func (m *fakeMode) CheckEffective(context.Context, time.Duration) (fault.Detail, error) {
	m.calls = append(m.calls, "check-effective")
	if !m.injected || m.failCheck {
		return nil, errors.New("no effect seen")
	}
	return fault.Detail{"seen": true}, nil
}
func (m *fakeMode) CheckHealed(context.Context, time.Duration) (fault.Detail, error) {
	m.calls = append(m.calls, "check-healed")
	if m.injected {
		return nil, errors.New("still faulty")
	}
	return nil, nil
}

func faultRecords(buf *bytes.Buffer) []history.FaultEvent {
	var out []history.FaultEvent
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var op history.Op
		Expect(json.Unmarshal([]byte(line), &op)).To(Succeed())
		Expect(op.Type).To(Equal(history.Fault))
		Expect(op.F).To(Equal("fake"))
		Expect(op.Process).To(Equal(history.NemesisProcess))
		var ev history.FaultEvent
		Expect(json.Unmarshal(op.Value, &ev)).To(Succeed())
		out = append(out, ev)
	}
	return out
}

var _ = Describe("the fault state machine", func() {
	var (
		mode *fakeMode
		f    *fault.Fault
		buf  *bytes.Buffer
		rec  *history.Recorder
	)
	ctx := context.Background()

	BeforeEach(func() {
		mode = &fakeMode{}
		buf = &bytes.Buffer{}
		rec = history.NewRecorder(buf)
		f = fault.New(mode, rec)
	})

	It("runs inject, effect, heal, healed in order and records the four phases", func() {
		Expect(f.Inject(ctx)).To(Succeed())
		Expect(f.State()).To(Equal(fault.Injected))
		Expect(f.WaitEffective(ctx)).To(Succeed())
		Expect(f.State()).To(Equal(fault.Effective))
		Expect(f.Heal(ctx)).To(Succeed())
		Expect(f.State()).To(Equal(fault.Healing))
		Expect(f.WaitHealed(ctx)).To(Succeed())
		Expect(f.State()).To(Equal(fault.Healed))
		Expect(rec.Flush()).To(Succeed())
		evs := faultRecords(buf)
		phases := make([]history.FaultPhase, len(evs))
		for i, ev := range evs {
			phases[i] = ev.Phase
			Expect(ev.Target).To(Equal([]string{"n1"}))
		}
		Expect(phases).To(Equal([]history.FaultPhase{history.FaultStart, history.FaultEffective, history.FaultHeal, history.FaultHealed}))
		Expect(evs[0].Detail).To(HaveKeyWithValue("k", "v"))
		Expect(evs[1].Detail).To(HaveKeyWithValue("seen", true))
	})

	DescribeTable("refuses calls out of order without touching the cluster",
		func(prepare []string, call string) {
			steps := map[string]func(context.Context) error{
				"inject": f.Inject, "wait-effective": f.WaitEffective, "heal": f.Heal, "wait-healed": f.WaitHealed,
			}
			for _, s := range prepare {
				Expect(steps[s](ctx)).To(Succeed())
			}
			before := len(mode.calls)
			err := steps[call](ctx)
			Expect(err).To(MatchError(fault.ErrOutOfOrder))
			Expect(err.Error()).To(ContainSubstring("fake on n1"))
			Expect(mode.calls).To(HaveLen(before), "the mode was called although the step was refused")
		},
		Entry("heal before inject", nil, "heal"),
		Entry("effect check before inject", nil, "wait-effective"),
		Entry("healed check before inject", nil, "wait-healed"),
		Entry("inject twice", []string{"inject"}, "inject"),
		Entry("inject while effective", []string{"inject", "wait-effective"}, "inject"),
		Entry("healed check before heal", []string{"inject", "wait-effective"}, "wait-healed"),
		Entry("heal twice", []string{"inject", "heal"}, "heal"),
		Entry("effect check after heal", []string{"inject", "heal"}, "wait-effective"),
	)

	It("can inject again once healing was confirmed", func() {
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
		Expect(f.Inject(ctx)).To(Succeed())
		Expect(f.State()).To(Equal(fault.Injected))
	})

	It("reports a failed effect check as ErrNotEffective, records no effective event and still allows heal", func() {
		mode.failCheck = true
		Expect(f.Inject(ctx)).To(Succeed())
		Expect(f.WaitEffective(ctx)).To(MatchError(fault.ErrNotEffective))
		Expect(f.State()).To(Equal(fault.Injected))
		Expect(f.Heal(ctx)).To(Succeed())
		Expect(rec.Flush()).To(Succeed())
		for _, ev := range faultRecords(buf) {
			Expect(ev.Phase).NotTo(Equal(history.FaultEffective))
		}
	})

	It("goes invalid when heal fails and allows only another heal", func() {
		mode.failHeal = true
		Expect(f.Inject(ctx)).To(Succeed())
		Expect(f.Heal(ctx)).To(MatchError(ContainSubstring("heal broke")))
		Expect(f.State()).To(Equal(fault.Invalid))
		Expect(f.Inject(ctx)).To(MatchError(fault.ErrOutOfOrder))
		Expect(f.WaitHealed(ctx)).To(MatchError(fault.ErrOutOfOrder))
		mode.failHeal = false
		Expect(f.Heal(ctx)).To(Succeed())
		Expect(f.WaitHealed(ctx)).To(Succeed())
	})

	It("works without a recorder", func() {
		f = fault.New(mode, nil)
		Expect(f.InjectAndConfirm(ctx)).To(Succeed())
		Expect(f.HealAndConfirm(ctx)).To(Succeed())
	})

	It("fails the effect check of a mode whose inject does nothing", func() {
		f = fault.New(noopInject{mode}, rec)
		Expect(f.Inject(ctx)).To(Succeed())
		Expect(f.WaitEffective(ctx)).To(MatchError(fault.ErrNotEffective))
	})
})
