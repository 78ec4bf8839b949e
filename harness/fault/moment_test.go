package fault

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the moment of a worker fault", func() {
	idle := linkSample{ApplyWait: "Extension", SenderWait: "WalSenderWaitForWal"}
	busy := linkSample{ApplyXact: true, ApplyXid: true}
	waiting := linkSample{ApplyXact: true, ApplyXid: true, ApplyWait: "Lock"}
	begun := linkSample{ApplyXact: true, ApplyWait: "Lock"} // waits before its first write: no xid yet
	sending := linkSample{ApplyXact: true, ApplyXid: true, SenderWait: "WalSenderWriteData"}
	sent := linkSample{ApplyXact: true, ApplyXid: true, SenderWait: "WalSenderWaitForWal"}
	idleApplyBusySender := linkSample{SenderWait: "WalSenderWriteData"}

	DescribeTable("is the sample the moment?",
		func(s linkSample, when Moment, role workerRole, act action, want bool) {
			Expect(s.at(when, role, act)).To(Equal(want))
		},
		Entry("anytime is any sample", busy, Anytime, applyWorker, terminateBackend, true),
		Entry("idle: an apply worker with no transaction open", idle, Idle, applyWorker, cancelBackend, true),
		Entry("idle: not while it applies", busy, Idle, applyWorker, cancelBackend, false),
		Entry("idle: not with a transaction begun but nothing written", begun, Idle, applyWorker, cancelBackend, false),
		Entry("idle walsender: caught up and the apply worker idle", idle, Idle, walsender, cancelBackend, true),
		Entry("idle walsender: not while it still sends", idleApplyBusySender, Idle, walsender, cancelBackend, false),
		Entry("in-txn kill: the worker wrote in the transaction", busy, InTxn, applyWorker, terminateBackend, true),
		Entry("in-txn kill: not before its first write", begun, InTxn, applyWorker, terminateBackend, false),
		Entry("in-txn kill: not when idle", idle, InTxn, applyWorker, terminateBackend, false),
		Entry("in-txn cancel: the worker wrote and waits on a lock", waiting, InTxn, applyWorker, cancelBackend, true),
		Entry("in-txn cancel: not while it runs (pglogical would not act on it)", busy, InTxn, applyWorker, cancelBackend, false),
		Entry("in-txn walsender: it still sends what the worker has begun", sending, InTxn, walsender, cancelBackend, true),
		Entry("in-txn walsender: not once it has sent everything", sent, InTxn, walsender, cancelBackend, false),
		Entry("in-txn walsender: not while the worker has written nothing", idleApplyBusySender, InTxn, walsender, cancelBackend, false),
	)

	It("parses the moments a step may name, and refuses others", func() {
		for _, s := range []string{"", "idle", "in-txn"} {
			m, err := ParseMoment(s)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(m)).To(Equal(s))
		}
		_, err := ParseMoment("soon")
		Expect(err).To(MatchError(ContainSubstring(`unknown moment "soon"`)))
	})
})

var _ = Describe("a backend's line in the server log", func() {
	const log = `2026-12-06 05:07:34.871 UTC [71] [unknown]@postgres LOG:  starting apply for subscription sub_n2_n1
2026-12-06 05:07:39.307 UTC [712] [unknown]@postgres ERROR:  canceling statement due to user request
2026-12-06 05:07:39.307 UTC [71] [unknown]@postgres ERROR:  canceling statement due to user request
2026-12-06 05:07:39.307 UTC [71] [unknown]@postgres CONTEXT:  while locking tuple (0,4) in relation "barrier"
	apply UPDATE from remote relation spockchaos.barrier in commit before 0/2D62308
2026-12-06 05:07:39.307 UTC [71] [unknown]@postgres LOG:  apply worker [71] at slot 2 generation 2 exiting with error
2026-12-06 05:07:40.001 UTC [76] [unknown]@postgres ERROR:  deadlock detected`

	It("finds the message of that pid with its context, not another pid's", func() {
		Expect(backendLogLine(log, 71, logCanceled)).To(Equal(
			`2026-12-06 05:07:39.307 UTC [71] [unknown]@postgres ERROR:  canceling statement due to user request | ` +
				`2026-12-06 05:07:39.307 UTC [71] [unknown]@postgres CONTEXT:  while locking tuple (0,4) in relation "barrier" | ` +
				`apply UPDATE from remote relation spockchaos.barrier in commit before 0/2D62308`))
		Expect(backendLogLine(log, 712, logCanceled)).To(HaveSuffix("due to user request"))
	})

	It("finds nothing for a pid that did not log the message", func() {
		Expect(backendLogLine(log, 7, logCanceled)).To(BeEmpty())
		Expect(backendLogLine(log, 76, logCanceled)).To(BeEmpty())
	})

	It("names the first of several pids that logged it", func() {
		pid, line := anyBackendLogLine(log, []int{70, 76}, logDeadlock)
		Expect(pid).To(Equal(76))
		Expect(line).To(HaveSuffix("deadlock detected"))
		pid, line = anyBackendLogLine(log, []int{70}, logDeadlock)
		Expect(pid).To(BeZero())
		Expect(line).To(BeEmpty())
	})
})

var _ = DescribeTable("the evidence of a discarded transaction in a server log",
	func(log, want string) { Expect(lastDiscardLine(log)).To(Equal(want)) },
	Entry("none", "LOG:  starting apply\nERROR:  deadlock detected", ""),
	Entry("Spock's discard, the last one",
		"[89] LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/1. Initial error: x\n"+
			"[89] LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/3972260. Initial error: [SQLSTATE 57014] canceling statement due to user request\n"+
			"[89] CONTEXT:  apply COMMIT in commit before 0/3972260\n",
		"[89] LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/3972260. Initial error: [SQLSTATE 57014] canceling statement due to user request"),
)
