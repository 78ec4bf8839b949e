package recovery

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const failedOrigin = "pgl_postgres_n1_sub_n2_n1"

var _ = Describe("the recovery stream filter", func() {
	ledger := relationMsg(16400, "public", "ledger", "*txn_id", "*seq", "origin", "payload")

	It("keeps exactly the failed origin's transactions past the target's progress, in order, with their values", func() {
		a := newAssembler(failedOrigin, 0x2000, "clone-a")
		got, err := feedAll(a,
			ledger,
			// local to the source: no origin message
			begin(0x1100, 700), insertMsg(16400, s("local"), s("1"), s("n2"), s("p")), commit(0x1100),
			// the failed origin, already applied by the target (at its progress)
			begin(0x1200, 701), origin(0x2000, failedOrigin), insertMsg(16400, s("old"), s("1"), s("n1"), s("p")), commit(0x1200),
			// another origin
			begin(0x1300, 702), origin(0x9000, "pgl_postgres_n3_sub_n2_n3"), insertMsg(16400, s("n3"), s("1"), s("n3"), s("p")), commit(0x1300),
			// the failed origin, new
			begin(0x1400, 703), origin(0x2100, failedOrigin),
			insertMsg(16400, s("new"), s("1"), s("n1"), nil),
			updateMsg(16400, nil, s("new"), s("1"), s("n1"), s("\x00u")),
			deleteMsg(16400, s("gone"), s("2"), nil, nil),
			commit(0x1400),
			begin(0x1500, 704), origin(0x2200, failedOrigin), insertMsg(16400, s("newer"), s("1"), s("n1"), s("q")), commit(0x1500),
		)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(2))
		Expect(got[0].originLSN).To(Equal(LSN(0x2100)))
		Expect(got[0].commitTime.Equal(pgEpochTS)).To(BeTrue(), "commit timestamp %s", got[0].commitTime)
		Expect(got[0].changes).To(HaveLen(3))
		Expect(got[0].changes[0].kind).To(Equal(byte('I')))
		Expect(got[0].changes[0].new).To(Equal([]value{{'t', "new"}, {'t', "1"}, {'t', "n1"}, {'n', ""}}))
		Expect(got[0].changes[1].new[3].kind).To(Equal(byte('u')))
		Expect(got[0].changes[2].kind).To(Equal(byte('D')))
		Expect(got[0].changes[2].old[0]).To(Equal(value{'t', "gone"}))
		Expect(got[0].changes[0].rel.cols[1]).To(Equal(relColumn{name: "seq", key: true}))
		Expect(got[1].originLSN).To(Equal(LSN(0x2200)))
		Expect(a.stats).To(Equal(streamStats{transactions: 5, originTxns: 3, alreadyApplied: 1}))
		Expect(a.done).To(BeFalse())
	})

	It("drops changes to the extensions' and harness's schemas and emits no empty transaction", func() {
		a := newAssembler(failedOrigin, 0, "clone-a")
		got, err := feedAll(a,
			ledger,
			relationMsg(16500, "spockchaos", "barrier", "*node", "mark"),
			relationMsg(16600, "pglogical", "queue", "*queued_at", "role"),
			begin(0x1100, 700), origin(0x2100, failedOrigin), insertMsg(16500, s("n1"), s("7")), commit(0x1100),
			begin(0x1200, 701), origin(0x2200, failedOrigin), insertMsg(16600, s("t"), s("r")), insertMsg(16400, s("a"), s("1"), s("n1"), s("p")), commit(0x1200),
		)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(1))
		Expect(got[0].changes).To(HaveLen(1))
		Expect(got[0].changes[0].rel.name).To(Equal("ledger"))
		Expect(a.stats.emptyKept).To(BeEquivalentTo(1))
	})

	It("stops at its own end marker only", func() {
		a := newAssembler(failedOrigin, 0, "clone-a")
		_, err := feedAll(a, logicalMsg(endMarkerPrefix, "clone-b"), logicalMsg("other", "clone-a"))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.done).To(BeFalse())
		_, err = feedAll(a, logicalMsg(endMarkerPrefix, "clone-a"))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.done).To(BeTrue())
	})

	It("refuses a change before its relation and a truncate it would have to replay", func() {
		_, err := feedAll(newAssembler(failedOrigin, 0, "c"), begin(1, 1), origin(0x10, failedOrigin), insertMsg(99, s("x")))
		Expect(err).To(MatchError(ContainSubstring("before its relation message")))
		_, err = feedAll(newAssembler(failedOrigin, 0, "c"), ledger, begin(1, 1), origin(0x10, failedOrigin), truncateMsg(16400))
		Expect(err).To(MatchError(ContainSubstring("truncates")))
		// A truncate of another origin is none of recovery's business.
		_, err = feedAll(newAssembler(failedOrigin, 0, "c"), ledger, begin(1, 1), origin(0x10, "other"), truncateMsg(16400), commit(1))
		Expect(err).NotTo(HaveOccurred())
	})
})
