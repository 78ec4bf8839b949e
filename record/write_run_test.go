package record_test

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
)

var _ = Describe("writing a run record", func() {
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)

	It("keeps phases in start order when an enclosing phase is added after its inner ones", func() {
		var run record.Run
		run.AddPhase(record.Phase{Name: record.PhaseUp, Start: t0})
		run.AddPhase(record.Phase{Name: record.PhaseFault, Start: t0.Add(3 * time.Second)})
		run.AddPhase(record.Phase{Name: record.PhaseLoad, Start: t0.Add(time.Second)})
		var names []string
		for _, p := range run.Phases {
			names = append(names, p.Name)
		}
		Expect(names).To(Equal([]string{record.PhaseUp, record.PhaseLoad, record.PhaseFault}))
	})

	It("ends the open fault of a node, and finds its last kill", func() {
		var run record.Run
		run.StartFault("kill", "n1", 2, "")
		lag := run.StartFault("lag", "n2", 0, "from n1")
		run.EndOpenFault("n1")
		Expect(run.Faults[0].End).NotTo(BeZero())
		Expect(run.Faults[lag].End).To(BeZero())
		run.EndOpenFault("n3") // none: nothing happens
		k, ok := run.LastKill("n1")
		Expect(ok).To(BeTrue())
		Expect(k.InFlightAtKill).To(Equal(2))
		_, ok = run.LastKill("n2")
		Expect(ok).To(BeFalse(), "a lag is not a kill")
	})

	It("adds a node once", func() {
		var run record.Run
		run.Node("n1").ServerVersion = "17.12"
		run.Node("n1").Files = []string{"x"}
		Expect(run.Nodes).To(Equal([]record.Node{{Name: "n1", ServerVersion: "17.12", Files: []string{"x"}}}))
	})

	DescribeTable("the verdict a run concludes with",
		func(checkers []record.Verdict, err error, want record.Verdict) {
			var run record.Run
			for i, v := range checkers {
				run.AddCheckers(record.CheckResult{Name: string(rune('a' + i)), Verdict: v})
			}
			run.Conclude([]string{"n2"}, []string{"n1"}, err)
			Expect(run.Verdict).To(Equal(want))
			Expect(run.EffectiveVerdict()).To(Equal(want))
		},
		Entry("every checker passed", []record.Verdict{record.Pass, record.Skipped}, nil, record.Pass),
		Entry("one failed", []record.Verdict{record.Pass, record.Fail}, nil, record.Fail),
		Entry("a harness error is never pass", []record.Verdict{record.Pass}, errors.New("boom"), record.Unknown),
		Entry("nothing judged", nil, nil, record.Unknown),
	)

	It("makes an interrupted or broken run unknown, keeping the first error", func() {
		var run record.Run
		run.AddCheckers(record.CheckResult{Name: "a", Verdict: record.Pass})
		run.Conclude(nil, nil, nil)
		run.Interrupt(record.Interruption{Phase: record.PhaseReport, By: "SIGTERM"}, errors.New("interrupted by SIGTERM in phase report"))
		Expect(run.Verdict).To(Equal(record.Unknown))
		Expect(run.Error).To(Equal("interrupted by SIGTERM in phase report"))
		run.Interrupt(record.Interruption{Phase: record.PhaseReport, By: "SIGINT"}, errors.New("second"))
		Expect(run.Error).To(Equal("interrupted by SIGTERM in phase report"))

		var broken record.Run
		broken.AddCheckers(record.CheckResult{Name: "a", Verdict: record.Pass})
		broken.Conclude(nil, nil, nil)
		broken.Broken(errors.New("close history: disk full"))
		Expect(broken.EffectiveVerdict()).To(Equal(record.Unknown))
	})
})
