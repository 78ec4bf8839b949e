package verify_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("divergence evidence", func() {
	ts := func(s string) *time.Time {
		t, err := time.Parse("2006-01-02 15:04:05.999999-07", s)
		Expect(err).NotTo(HaveOccurred())
		return &t
	}
	// n1's ledger rows of one transaction, absent on n2 (as
	// SpockDiscardAfterTerm leaves them).
	missing := verify.DivergenceClass{Table: "public.ledger", PresentOn: []string{"n1", "n3"}, AbsentOn: []string{"n2"},
		Origins: []string{"n1"}, FirstCommit: ts("2026-12-02 00:17:44.35654+00"), LastCommit: ts("2026-12-02 00:17:44.35654+00"),
		Rows: 4, Line: "public.ledger: 4 rows of origin n1, committed 00:17:44.35, on n1, n3 but not on n2"}
	subs := map[string]map[string]string{"n2": {"n1": "sub_n2_n1", "n3": "sub_n2_n3"}}
	const discard = `2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/2B97D60
2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres CONTEXT:  apply COMMIT in commit before 0/2B97D60, xid 19225 committed at 2026-12-02 00:17:44.35654+00 (action #7) from node replorigin 49708 forwarded from commit 0/0 on node 49708
`
	const otherTxn = `2026-12-02 00:17:46.100 UTC [81] [unknown]@postgres LOG:  SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/2B98000
2026-12-02 00:17:46.100 UTC [81] [unknown]@postgres CONTEXT:  apply COMMIT in commit before 0/2B98000, xid 19230 committed at 2026-12-02 00:17:45.9+00 (action #3) from node replorigin 49708
`
	const otherTable = `2026-12-02 00:17:45.500 UTC [81] [unknown]@postgres LOG:  CONFLICT: remote UPDATE on relation public.hotkey (local index hotkey_pkey). Resolution: apply_remote.
2026-12-02 00:17:45.500 UTC [81] [unknown]@postgres CONTEXT:  apply UPDATE from remote relation public.hotkey in commit before 0/2B97D60, xid 19225 committed at 2026-12-02 00:17:44.35654+00 (action #2) from node replorigin 1
`
	const cancel = "2026-12-02 00:17:45.000 UTC [51] postgres@postgres ERROR:  canceling statement due to user request\n"
	disable := func(at string) string {
		return at + " UTC [90] [unknown]@postgres WARNING:  SPOCK sub_n2_n1: disabling subscription due to exceptions - origin_lsn=0/2B97D60\n"
	}
	find := func(class verify.DivergenceClass, logs map[string]string, rows ...verify.ExceptionRow) []verify.ClassEvidence {
		in := verify.EvidenceInput{Classes: []verify.DivergenceClass{class}, Logs: map[string][]byte{}, Subscriptions: subs, Exceptions: rows}
		for n, l := range logs {
			in.Logs[n] = []byte(l)
		}
		return verify.FindEvidence(in)
	}

	type entry struct {
		log  string
		rows []verify.ExceptionRow
		want []string // substrings, one per kept line, in order
	}
	table := map[string]entry{
		"the discard of the transaction committed at the rows' commit time is attached": {log: cancel + discard + otherTxn,
			want: []string{"SPOCK sub_n2_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/2B97D60 | 2026-12-02 00:17:45.411 UTC [81] [unknown]@postgres CONTEXT:  apply COMMIT in commit before 0/2B97D60, xid 19225 committed at 2026-12-02 00:17:44.35654+00"}},
		"control: another transaction's discard, another table's conflict, an unrelated error": {log: otherTxn + otherTable + cancel, want: nil},
		"a subscription from the rows' origin disabled soon after":                             {log: disable("2026-12-02 00:17:50.000"), want: []string{"disabling subscription"}},
		"control: the same disable ten minutes later":                                          {log: disable("2026-12-02 00:27:50.000"), want: nil},
		"an exception_log row of the transaction": {rows: []verify.ExceptionRow{
			{Node: "n2", Origin: "n1", Subscription: "sub_n2_n1", RemoteXID: 19225, RemoteCommitTS: *missing.FirstCommit, Table: "ledger", Operation: "INSERT", Error: "transdiscard: tuple discarded due to exception (root cause not captured)"},
			{Node: "n3", Origin: "n1", RemoteXID: 19225, RemoteCommitTS: *missing.FirstCommit, Table: "ledger", Error: "not n2's"},
			{Node: "n2", Origin: "n1", RemoteXID: 19300, RemoteCommitTS: missing.FirstCommit.Add(time.Second), Table: "ledger", Error: "another transaction"},
		}, want: []string{"spock.exception_log: n2: sub_n2_n1 (origin n1) remote xid 19225"}},
	}
	for name, e := range table {
		It(name, func() {
			got := find(missing, map[string]string{"n2": e.log}, e.rows...)
			Expect(got).To(HaveLen(1))
			Expect(got[0].Node).To(Equal("n2"))
			Expect(got[0].Class).To(Equal(missing.Line))
			Expect(got[0].Lines).To(HaveLen(len(e.want)), strings.Join(got[0].Lines, "\n"))
			for i, w := range e.want {
				Expect(got[0].Lines[i]).To(ContainSubstring(w))
			}
		})
	}

	It("says when a node's log was not captured, and searches the holders of a differing version", func() {
		differs := verify.DivergenceClass{Table: "public.toast_wide", PresentOn: []string{"n1", "n2"}, DifferingColumns: []string{"doc"},
			Origins: []string{"n1", "n2"}, FirstCommit: ts("2026-12-06 05:11:35.04702+00"), LastCommit: ts("2026-12-06 05:11:35.2+00"), Line: "toast"}
		// pglogical's conflict as logged in a toast-crash-restart run
		conflict := `2026-12-06 05:11:35.190 UTC [38] [unknown]@postgres LOG:  CONFLICT: remote UPDATE on relation public.toast_wide (local index toast_wide_pkey). Resolution: keep_local.
2026-12-06 05:11:35.190 UTC [38] [unknown]@postgres DETAIL:  existing local tuple {k[int4]:4 writer[text]:n2-c0} xid=777,origin=0,timestamp=2026-12-06 05:11:35.169895+00; remote tuple {k[int4]:4} in xact origin=1,timestamp=2026-12-06 05:11:35.04702+00,commit_lsn=0/164D700
2026-12-06 05:11:35.190 UTC [38] [unknown]@postgres CONTEXT:  apply UPDATE from remote relation public.toast_wide in commit before 0/164D700, xid 774 committed at 2026-12-06 05:11:35.04702+00 (action #2) from node replorigin 1
`
		got := find(differs, map[string]string{"n2": conflict})
		Expect(got).To(HaveLen(2))
		Expect(got[0].Node).To(Equal("n1"))
		Expect(got[0].Note).To(Equal("no server log captured"))
		Expect(got[1].Node).To(Equal("n2"))
		Expect(got[1].Lines).To(HaveLen(1))
		Expect(got[1].Lines[0]).To(ContainSubstring("CONFLICT: remote UPDATE on relation public.toast_wide"))
		Expect(got[1].Lines[0]).NotTo(ContainSubstring("DETAIL"), "only the message and its CONTEXT are kept")
	})

	It("keeps the first lines and counts the others", func() {
		var log strings.Builder
		for i := range 9 {
			fmt.Fprint(&log, strings.ReplaceAll(discard, "[81]", fmt.Sprintf("[%d]", 100+i)))
		}
		got := find(missing, map[string]string{"n2": log.String()})
		Expect(got[0].Lines).To(HaveLen(6))
		Expect(got[0].More).To(Equal(3))
	})
})
