package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("a heal confirmation that timed out", func() {
	start := time.Date(2026, 12, 6, 9, 30, 25, 0, time.UTC)
	subs := [][2]string{{"n2", "sub_n2_n1"}, {"n1", "sub_n1_n2"}}
	line := func(node, sub string, at time.Time, self bool) verify.SubLogLine {
		return verify.SubLogLine{Node: node, Subscription: sub, At: at, Line: node + " " + sub + " " + at.Format(time.TimeOnly), SelfDisable: self}
	}
	disabled := map[string]map[string]string{"n2": {"sub_n2_n1": "disabled"}, "n1": {"sub_n1_n2": "replicating"}}
	selfAt := line("n2", "sub_n2_n1", start.Add(15*time.Second), true)

	DescribeTable("is the server's doing only when it disabled a subscription the fault touches, since the fault started",
		func(statuses map[string]map[string]string, lines []verify.SubLogLine, want verify.SubLogLine, ok bool) {
			got, gotOK := scenarios.ServerDisabled(subs, statuses, lines, start)
			Expect(gotOK).To(Equal(ok))
			Expect(got).To(Equal(want))
		},
		Entry("disabled now, and the server says it disabled it during the fault: a note, the latest line",
			disabled, []verify.SubLogLine{line("n2", "sub_n2_n1", start.Add(time.Second), true), selfAt}, selfAt, true),
		Entry("disabled now, the line a moment before the recorded start (clock slack): still the server's",
			disabled, []verify.SubLogLine{line("n2", "sub_n2_n1", start.Add(-time.Second), true)}, line("n2", "sub_n2_n1", start.Add(-time.Second), true), true),
		Entry("the server disabled it, but it is replicating again: the heal error stands",
			map[string]map[string]string{"n2": {"sub_n2_n1": "replicating"}}, []verify.SubLogLine{selfAt}, verify.SubLogLine{}, false),
		Entry("disabled, with no line saying the server did it (the harness or an operator): the heal error stands",
			disabled, []verify.SubLogLine{line("n2", "sub_n2_n1", start.Add(time.Second), false)}, verify.SubLogLine{}, false),
		Entry("the server disabled it before this fault started: not this fault's, the heal error stands",
			disabled, []verify.SubLogLine{line("n2", "sub_n2_n1", start.Add(-time.Minute), true)}, verify.SubLogLine{}, false),
		Entry("a self-disable line with no time cannot be tied to the fault",
			disabled, []verify.SubLogLine{line("n2", "sub_n2_n1", time.Time{}, true)}, verify.SubLogLine{}, false),
		Entry("the line is about another node's subscription of the same name",
			disabled, []verify.SubLogLine{line("n3", "sub_n2_n1", start.Add(time.Second), true)}, verify.SubLogLine{}, false),
		Entry("a subscription the fault does not touch was disabled: the heal error stands",
			map[string]map[string]string{"n3": {"sub_n3_n1": "disabled"}}, []verify.SubLogLine{line("n3", "sub_n3_n1", start.Add(time.Second), true)}, verify.SubLogLine{}, false),
		Entry("statuses could not be read: the heal error stands",
			nil, []verify.SubLogLine{selfAt}, verify.SubLogLine{}, false),
	)

	It("touches the subscriptions between every ordered pair of the fault's targets", func() {
		name := func(sub, prov string) string { return "sub_" + sub + "_" + prov }
		Expect(scenarios.SubsAmong([]string{"n2", "n1"}, name)).To(Equal([][2]string{{"n2", "sub_n2_n1"}, {"n1", "sub_n1_n2"}}))
		Expect(scenarios.SubsAmong([]string{"n1"}, name)).To(BeEmpty(), "a one-node fault touches no subscription")
	})

	DescribeTable("asks the server only about a failed wait: a heal not seen, or an inject's wait that timed out",
		func(stopping bool, err error, ask bool) {
			ctx := context.Background()
			if stopping {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			Expect(scenarios.ServerMayHaveAnswered(ctx, err)).To(Equal(ask))
		},
		Entry("heal confirmation failed", false, fmt.Errorf("wait healed sub-restart-cycle on n1: %w: x", fault.ErrNotHealed), true),
		Entry("the sub-restart-cycle's wait for a new apply worker timed out", false,
			fmt.Errorf("sub-restart-cycle cycle 2: wait for a new apply worker: %w after 1m0s (last state: none)", harness.ErrTimedOut), true),
		Entry("an SQL error of the inject: the harness's, not the server's answer", false, errors.New("disable sub_n1_n3 on n1: ERROR: syntax"), false),
		Entry("the run is stopping (Ctrl-C, its timeout): never the server's", true,
			fmt.Errorf("wait for x: %w after 1m0s", harness.ErrTimedOut), false),
	)

	DescribeTable("keeps the survivors from quiescing only while both ends of a disabled subscription survive",
		func(alive []string, want [][2]string) {
			disabled := [][3]string{{"n1", "sub_n1_n3", "n3"}, {"n2", "sub_n2_n1", "n1"}}
			Expect(scenarios.DisabledAmong(disabled, alive)).To(Equal(want))
		},
		Entry("every node alive: both, in subscriber order", []string{"n1", "n2", "n3"}, [][2]string{{"n1", "sub_n1_n3"}, {"n2", "sub_n2_n1"}}),
		Entry("the provider n3 is dead: its subscription is not among the survivors'", []string{"n1", "n2"}, [][2]string{{"n2", "sub_n2_n1"}}),
		Entry("the subscriber n2 is dead", []string{"n1", "n3"}, [][2]string{{"n1", "sub_n1_n3"}}),
		Entry("none disabled among the survivors: quiesce waits as ever", []string{"n2", "n3"}, nil),
	)
})
