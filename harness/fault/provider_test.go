package fault

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the provider and subscription faults' decisions", func() {
	// Lines as PostgreSQL 17 logs them ('%m [%p] ' prefix).
	const (
		fast    = "2026-12-06 05:30:00.100 UTC [1] LOG:  received fast shutdown request"
		down    = "2026-12-06 05:30:00.900 UTC [1] LOG:  database system is shut down"
		clean   = "2026-12-06 05:30:01.500 UTC [29] LOG:  database system was shut down at 2026-12-06 05:30:00 UTC"
		crashed = "2026-12-06 05:30:01.500 UTC [29] LOG:  database system was interrupted; last known up at 2026-12-06 05:29:00 UTC"
		redo    = "2026-12-06 05:30:01.600 UTC [29] LOG:  database system was not properly shut down; automatic recovery in progress"
		smart   = "2026-12-06 05:30:00.100 UTC [1] LOG:  received smart shutdown request"
	)
	DescribeTable("judgeShutdownLog: a fast shutdown, then a clean start",
		func(lines []string, ok bool, why string) {
			evidence, err := judgeShutdownLog(joinLines(lines))
			if ok {
				Expect(err).NotTo(HaveOccurred())
				Expect(evidence).To(Equal([]string{fast, down, clean}))
				return
			}
			Expect(err).To(MatchError(ContainSubstring(why)))
		},
		Entry("fast shutdown and clean start", []string{fast, "LOG:  shutting down", down, clean}, true, ""),
		Entry("a crash (kill): crash recovery at start", []string{crashed, redo}, false, "shows a crash"),
		Entry("shut down, then a crash recovery anyway", []string{fast, down, crashed}, false, "shows a crash"),
		Entry("a smart shutdown, not fast", []string{smart, down, clean}, false, "received fast shutdown request"),
		Entry("never came back", []string{fast, down}, false, "database system was shut down at"),
		Entry("nothing logged (no restart)", []string{}, false, "lacks"),
	)

	DescribeTable("walsendersReplaced: every subscriber's link came back through a new walsender",
		func(before, now map[string]int, why string) {
			err := walsendersReplaced(before, now)
			if why == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(MatchError(ContainSubstring(why)))
		},
		Entry("all new", map[string]int{"n2": 10, "n3": 11}, map[string]int{"n2": 40, "n3": 41}, ""),
		Entry("one unchanged", map[string]int{"n2": 10, "n3": 11}, map[string]int{"n2": 40, "n3": 11}, "n3 is still served by walsender 11"),
		Entry("one missing", map[string]int{"n2": 10, "n3": 11}, map[string]int{"n2": 40}, "n3 has no walsender now"),
		Entry("none sampled", map[string]int{}, map[string]int{"n2": 40}, "no walsender was sampled"),
	)

	DescribeTable("judgeCycles: N restarts, each a new worker, each disable seen",
		func(first int, pids []int, statuses []string, disabled bool, now int, why string) {
			err := judgeCycles(first, pids, statuses, 3, disabled, now)
			if why == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(MatchError(ContainSubstring(why)))
		},
		Entry("three disables", 100, []int{101, 102, 103}, []string{"disabled", "disabled", "down"}, true, 103, ""),
		Entry("three interface switches", 100, []int{101, 102, 103}, nil, false, 103, ""),
		Entry("a no-op: nothing seen", 100, nil, nil, true, 100, "0 worker restarts seen, want 3"),
		Entry("a worker that did not change", 100, []int{101, 101, 103}, nil, false, 103, "cycle 2: the apply worker is still pid 101"),
		Entry("a disable still replicating", 100, []int{101, 102, 103}, []string{"disabled", "replicating", "disabled"}, true, 103, `cycle 2: disabled, the subscription said "replicating"`),
		Entry("the worker before still runs", 100, []int{101, 102, 103}, nil, false, 100, "the one before the fault"),
		Entry("nothing sampled before", 0, []int{101, 102, 103}, nil, false, 103, "no apply worker was sampled"),
	)
})

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
