package verify_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"

	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

var _ = Describe("replication-health", func() {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	sample := func(node, sub, status string) verify.SubSample {
		return verify.SubSample{Node: node, Subscription: sub, Status: status, At: at(100)}
	}
	ok := []verify.SubSample{sample("n1", "sub_n1_n2", "replicating"), sample("n2", "sub_n2_n1", "replicating")}
	lag := func(end time.Time) verify.SubFault {
		return verify.SubFault{Kind: "lag", Node: "n2", Subscription: "sub_n2_n1", Start: at(10), End: end}
	}
	selfDisable := func(s int) verify.SubLogLine {
		return verify.SubLogLine{Node: "n2", Subscription: "sub_n2_n1", At: at(s), SelfDisable: true,
			Line: "LOG:  SPOCK sub_n2_n1: Transaction failed, subscription will be disabled"}
	}

	workerErr := func(s int, msg string) verify.SubLogLine {
		return verify.SubLogLine{Node: "n2", Subscription: "sub_n2_n1", At: at(s), WorkerError: true,
			Line: at(s).Format("2006-01-02 15:04:05.000 MST") + " [32] ERROR:  " + msg}
	}

	type entry struct {
		in      verify.ReplicationHealthInput
		verdict verify.Verdict
		says    []string
	}
	table := map[string]entry{
		"all replicating, no fault": {verify.ReplicationHealthInput{Samples: ok}, verify.Pass, []string{"2 subscriptions replicating"}},
		"planted: left disabled with no fault": {verify.ReplicationHealthInput{
			Samples:  []verify.SubSample{ok[0], sample("n2", "sub_n2_n1", "disabled")},
			Fallback: map[string]string{"n2": "ERROR:  duplicate key"},
		}, verify.Fail, []string{"n2: sub_n2_n1 disabled at 03:01:40.000 with no fault on it", "last error: ERROR:  duplicate key"}},
		"disabled by a healed lag, re-enabled": {verify.ReplicationHealthInput{Samples: ok, Faults: []verify.SubFault{lag(at(20))}}, verify.Pass, nil},
		"disabled by a lag still in force": {verify.ReplicationHealthInput{
			Samples: []verify.SubSample{ok[0], sample("n2", "sub_n2_n1", "disabled")}, Faults: []verify.SubFault{lag(time.Time{})},
		}, verify.Pass, []string{"n2: sub_n2_n1 disabled: its lag fault (since 03:00:10.000) is still in force"}},
		"still disabled after its lag healed": {verify.ReplicationHealthInput{
			Samples: []verify.SubSample{ok[0], sample("n2", "sub_n2_n1", "disabled")}, Faults: []verify.SubFault{lag(at(20))},
		}, verify.Fail, []string{"after its lag fault healed at 03:00:20.000"}},
		"disabled by the server itself, re-enabled since": {verify.ReplicationHealthInput{Samples: ok, Logs: []verify.SubLogLine{selfDisable(50)}},
			verify.Fail, []string{"n2: sub_n2_n1 disabled by the server itself at 03:00:50.000 (now replicating)", "will be disabled"}},
		"server disable inside a lag's window": {verify.ReplicationHealthInput{Samples: ok, Faults: []verify.SubFault{lag(at(20))}, Logs: []verify.SubLogLine{selfDisable(15)}},
			verify.Pass, nil},
		"down after the wait, reason from its log": {verify.ReplicationHealthInput{
			Samples: []verify.SubSample{ok[0], sample("n2", "sub_n2_n1", "down")},
			Logs:    []verify.SubLogLine{{Node: "n2", Subscription: "sub_n2_n1", Line: "ERROR:  apply worker for sub_n2_n1 failed"}},
			Waited:  "waited 15s",
		}, verify.Fail, []string{"n2: sub_n2_n1 down", "apply worker for sub_n2_n1 failed", "(waited 15s)"}},
		"nothing to judge": {verify.ReplicationHealthInput{}, verify.Unknown, []string{"no subscription"}},
		"planted: apply worker ended by errors, replicating again, strict": {verify.ReplicationHealthInput{Samples: ok, WorkerErrorsFail: true,
			Logs: []verify.SubLogLine{workerErr(30, "unexpected HTSU_Result after locking: 4"), workerErr(40, "duplicate key value"), workerErr(45, "unexpected HTSU_Result after locking: 4")}},
			verify.Fail, []string{"n2: sub_n2_n1: its apply worker ended on an error 3 times with no fault on it (03:00:30.000 to 03:00:45.000; now replicating)",
				"duplicate key value | 2026", "HTSU_Result after locking: 4"}},
		"apply worker ended by errors, not strict": {verify.ReplicationHealthInput{Samples: ok, Logs: []verify.SubLogLine{workerErr(30, "x")}},
			verify.Pass, []string{"2 subscriptions replicating"}},
		"apply worker ended by an error inside a lag's window, strict": {verify.ReplicationHealthInput{Samples: ok, WorkerErrorsFail: true,
			Faults: []verify.SubFault{lag(at(20))}, Logs: []verify.SubLogLine{workerErr(15, "x")}}, verify.Pass, nil},
	}

	It("decides each table entry", func() {
		for name, e := range table {
			got := verify.JudgeReplicationHealth(e.in)
			Expect(got.Name).To(Equal("replication-health"))
			Expect(got.Verdict).To(Equal(e.verdict), name+": "+got.Summary)
			for _, s := range e.says {
				Expect(got.Summary).To(ContainSubstring(s), name)
			}
		}
	})

	It("has an entry that a checker which always passes gets wrong (no-op control)", func() {
		alwaysPass := func(verify.ReplicationHealthInput) verify.CheckResult {
			return verify.CheckResult{Name: "replication-health", Verdict: verify.Pass}
		}
		var wrong []string
		for name, e := range table {
			if alwaysPass(e.in).Verdict != e.verdict {
				wrong = append(wrong, name)
			}
		}
		Expect(wrong).To(ContainElement("planted: left disabled with no fault"))
	})

	It("reads the lag fault windows from a history (start names the subscription, healed closes it)", func() {
		ev := func(phase history.FaultPhase, detail map[string]any) json.RawMessage {
			b, _ := json.Marshal(history.FaultEvent{Phase: phase, Target: []string{"n2", "n1"}, Detail: detail})
			return b
		}
		ops := []history.Op{
			{Type: history.Fault, F: "lag", Node: "n2", Wall: at(10), Value: ev(history.FaultStart, map[string]any{"subscription": "sub_n2_n1"})},
			{Type: history.Fault, F: "kill", Node: "n3", Wall: at(11), Value: ev(history.FaultStart, nil)},
			{Type: history.Fault, F: "lag", Node: "n2", Wall: at(12), Value: ev("effective", nil)},
			{Type: history.Fault, F: "lag", Node: "n2", Wall: at(20), Value: ev(history.FaultHealed, nil)},
			{Type: history.Fault, F: "lag", Node: "n1", Wall: at(30), Value: ev(history.FaultStart, map[string]any{"subscription": "sub_n1_n3"})},
		}
		Expect(verify.SubscriptionFaults(ops)).To(Equal([]verify.SubFault{
			{Kind: "lag", Node: "n2", Subscription: "sub_n2_n1", Start: at(10), End: at(20)},
			{Kind: "lag", Node: "n1", Subscription: "sub_n1_n3", Start: at(30)},
		}))
	})

	It("picks a subscriber's log lines naming a subscription, with their time, and flags the server's own disable", func() {
		log := []byte(`2026-12-06 03:00:05.123 UTC [77] LOG:  SPOCK sub_n2_n1: Transaction failed, subscription will be disabled
2026-12-06 03:00:05.200 UTC [77] ERROR:  duplicate key value violates unique constraint "t_pkey"
2026-12-06 03:00:06.000 UTC [78] ERROR:  apply worker for sub_n2_n13 failed
2026-12-06 03:00:07.000 UTC [79] LOG:  subscription sub_n2_n3 is now replicating
not a log line sub_n2_n3 ERROR: x
`)
		got := verify.ParseSubscriptionLog("n2", log, []string{"sub_n2_n1", "sub_n2_n3"})
		Expect(got).To(HaveLen(2))
		Expect(got[0].Subscription).To(Equal("sub_n2_n1"))
		Expect(got[0].SelfDisable).To(BeTrue())
		Expect(got[0].At).To(Equal(time.Date(2026, 12, 6, 3, 0, 5, 123e6, time.UTC)))
		Expect(got[1].Subscription).To(Equal("sub_n2_n3"))
		Expect(got[1].At.IsZero()).To(BeTrue())
		Expect(got[1].SelfDisable).To(BeFalse())
	})

	It("attributes an apply worker's errors to its subscription by the pid that started it", func() {
		log := []byte(`2026-12-06 08:36:44.099 UTC [32] [unknown]@postgres LOG:  starting apply for subscription sub_n1_n2
2026-12-06 08:36:44.240 UTC [37] [unknown]@postgres LOG:  starting apply for subscription sub_n1_n3
2026-12-06 08:36:45.686 UTC [32] [unknown]@postgres LOG:  concurrent update, retrying
2026-12-06 08:36:45.977 UTC [32] [unknown]@postgres ERROR:  unexpected HTSU_Result after locking: 4
2026-12-06 08:36:46.022 UTC [1] LOG:  background worker "pglogical apply 5:2979946351" (PID 32) exited with exit code 1
2026-12-06 08:36:46.100 UTC [40] [unknown]@postgres ERROR:  relation "t" does not exist
2026-12-06 08:36:53.137 UTC [52] [unknown]@postgres LOG:  SPOCK sub_n1_n3: starting apply worker
2026-12-06 08:36:53.200 UTC [52] [unknown]@postgres ERROR:  duplicate key value violates unique constraint "conflict_kv_pkey"
2026-12-06 12:15:44.682 UTC [140] LOG:  SPOCK sub_n1_n2: connected
2026-12-06 12:15:45.141 UTC [140] ERROR:  StartTransactionCommand: unexpected state STARTED
2026-12-06 12:15:46.000 UTC [141] LOG:  SPOCK sub_n1_n2: connected to nothing in particular
2026-12-06 12:15:46.100 UTC [141] ERROR:  not an apply worker's: its line only looks like the mark
`)
		got := verify.ParseSubscriptionLog("n1", log, []string{"sub_n1_n2", "sub_n1_n3"})
		Expect(got).To(HaveLen(3), "the start lines, the LOG line and the error of a session that is no apply worker are not about a subscription")
		Expect(got[0]).To(MatchFields(IgnoreExtras, Fields{"Subscription": Equal("sub_n1_n2"), "WorkerError": BeTrue(),
			"At": Equal(time.Date(2026, 12, 6, 8, 36, 45, 977e6, time.UTC))}))
		Expect(got[1]).To(MatchFields(IgnoreExtras, Fields{"Subscription": Equal("sub_n1_n3"), "WorkerError": BeTrue()}))
		Expect(got[2]).To(MatchFields(IgnoreExtras, Fields{"Subscription": Equal("sub_n1_n2"), "WorkerError": BeTrue(),
			"Line": ContainSubstring("unexpected state STARTED")}), "Spock's worker is known by its 'connected' line (5.0.11 logs this error as SIGTERM ends it)")
	})
})
