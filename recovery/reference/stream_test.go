package reference

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
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
		Expect(got[0].originLSN).To(Equal(recovery.LSN(0x2100)))
		Expect(got[0].commitTime.Equal(pgEpochTS)).To(BeTrue(), "commit timestamp %s", got[0].commitTime)
		Expect(got[0].changes).To(HaveLen(3))
		Expect(got[0].changes[0].kind).To(Equal(byte('I')))
		Expect(got[0].changes[0].new).To(Equal([]value{{'t', "new"}, {'t', "1"}, {'t', "n1"}, {'n', ""}}))
		Expect(got[0].changes[1].new[3].kind).To(Equal(byte('u')))
		Expect(got[0].changes[2].kind).To(Equal(byte('D')))
		Expect(got[0].changes[2].old[0]).To(Equal(value{'t', "gone"}))
		Expect(got[0].changes[0].rel.cols[1]).To(Equal(relColumn{name: "seq", key: true}))
		Expect(got[1].originLSN).To(Equal(recovery.LSN(0x2200)))
		Expect(a.stats).To(Equal(streamStats{transactions: 5, originTxns: 3, alreadyApplied: 1, firstPos: 0x2000, lastPos: 0x2200}))
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
		_, err := feedAll(a, logicalMsg(recovery.EndMarkerPrefix, "clone-b"), logicalMsg("other", "clone-a"))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.done).To(BeFalse())
		_, err = feedAll(a, logicalMsg(recovery.EndMarkerPrefix, "clone-a"))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.done).To(BeTrue())
	})

	Context("past the source's last commit of the failed node", func() {
		// The source's last commit of n1 ends at 0x1408 (commit(lsn)
		// ends at lsn+8); the load goes on after it.
		const lastOfN1 = recovery.LSN(0x1408)
		n1Txns := []wire{ledger,
			begin(0x1100, 700), insertMsg(16400, s("local"), s("1"), s("n2"), s("p")), commit(0x1100),
			begin(0x1400, 703), origin(0x2100, failedOrigin), insertMsg(16400, s("last"), s("1"), s("n1"), s("p")), commit(0x1400),
		}
		after := []wire{
			begin(0x1500, 704), insertMsg(16400, s("load"), s("1"), s("n2"), s("p")), commit(0x1500),
			logicalMsgAt(0x1600, recovery.FloorMessagePrefix, ""),
			logicalMsgAt(0x1700, recovery.EndMarkerPrefix, "clone-a"),
		}
		stream := func(a *assembler, msgs ...[]wire) ([]*txn, error) {
			var all []wire
			for _, m := range msgs {
				all = append(all, m...)
			}
			return feedAll(a, all...)
		}

		It("ends at that commit once every target is proven covered, with the commit kept", func() {
			a := newAssembler(failedOrigin, 0x2000, "clone-a")
			a.lastOfFailed, a.stopEarly = lastOfN1, func() bool { return true }
			got, err := stream(a, n1Txns)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.done).To(BeTrue())
			Expect(a.stats.endedAt).To(Equal(lastOfN1))
			Expect(got).To(HaveLen(1))
			Expect(got[0].originLSN).To(Equal(recovery.LSN(0x2100)))
			// Nothing more may be fed: the next message would be an error.
			_, err = feedAll(a, after[0])
			Expect(err).To(MatchError(ContainSubstring("after the stream ended")))
		})

		It("goes on while a target is not proven covered, and ends at the next commit or message past it once it is", func() {
			covered := false
			a := newAssembler(failedOrigin, 0x2000, "clone-a")
			a.lastOfFailed, a.stopEarly = lastOfN1, func() bool { return covered }
			_, err := stream(a, n1Txns)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.done).To(BeFalse(), "not covered: the stream must not end early")
			covered = true
			_, err = feedAll(a, after[:3]...)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.done).To(BeTrue())
			Expect(a.stats.endedAt).To(Equal(recovery.LSN(0x1508)))
		})

		It("ends at a non-transactional message past it when no commit follows", func() {
			a := newAssembler(failedOrigin, 0x2000, "clone-a")
			a.lastOfFailed, a.stopEarly = recovery.LSN(0x1550), func() bool { return true }
			_, err := stream(a, n1Txns, after[:4])
			Expect(err).NotTo(HaveOccurred())
			Expect(a.done).To(BeTrue())
			Expect(a.stats.endedAt).To(Equal(recovery.LSN(0x1600)))
		})

		It("ends only at the end marker when the source's last commit is unknown (0/0: restarted; Spock)", func() {
			a := newAssembler(failedOrigin, 0x2000, "clone-a")
			a.stopEarly = func() bool { return true }
			_, err := stream(a, n1Txns, after)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.done).To(BeTrue())
			Expect(a.stats.endedAt).To(BeZero(), "ended at the end marker")
		})
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

	Context("on Spock, where applied transactions carry no Origin message", func() {
		// roidents as real Spock stamps them: n1's node_id, and the
		// source's named origin for n1 (a transaction an earlier reference
		// replay wrote); 9057 is n3.
		origins := &pgnode.SpockOrigins{IDs: map[uint32]bool{49708: true, 2: true}}
		xids := fakeXIDs{700: 0, 701: 49708, 702: 9057, 703: 49708, 704: 2}
		spockAssembler := func(after position) *assembler {
			a := newAssembler("spk_postgres_n1_sub_n2_n1", after, "clone-a")
			a.spock = &spockStream{ctx: context.Background(), origins: origins, xids: xids}
			return a
		}
		txns := func(a *assembler) ([]*txn, error) {
			return feedAll(a, ledger,
				beginAt(0x1100, 700, tsAt(1)), insertMsg(16400, s("local"), s("1"), s("n2"), s("p")), commit(0x1100),
				beginAt(0x1200, 701, tsAt(2)), insertMsg(16400, s("old"), s("1"), s("n1"), s("p")), commit(0x1200),
				beginAt(0x1300, 702, tsAt(3)), insertMsg(16400, s("n3"), s("1"), s("n3"), s("p")), commit(0x1300),
				beginAt(0x1400, 703, tsAt(4)), insertMsg(16400, s("new"), s("1"), s("n1"), s("p")), commit(0x1400),
				beginAt(0x1500, 704, tsAt(5)), insertMsg(16400, s("replayed"), s("1"), s("n1"), s("p")), commit(0x1500),
			)
		}

		It("keeps the failed node's transactions by commit-timestamp origin, after the target's commit time", func() {
			a := spockAssembler(tsPosition(tsAt(2)))
			got, err := txns(a)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(HaveLen(2))
			Expect(got[0].xid).To(BeEquivalentTo(703))
			Expect(got[0].pos).To(Equal(tsPosition(tsAt(4))))
			Expect(got[1].xid).To(BeEquivalentTo(704))
			Expect(a.stats).To(Equal(streamStats{transactions: 5, originTxns: 3, alreadyApplied: 1, firstPos: tsPosition(tsAt(2)), lastPos: tsPosition(tsAt(5))}))
		})

		It("finds nothing by origin name, as the old filter did on real Spock", func() {
			a := newAssembler("spk_postgres_n1_sub_n2_n1", 0, "clone-a")
			got, err := txns(a)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(BeEmpty())
			Expect(a.stats.originTxns).To(BeZero())
		})

		It("fails on an xid whose origin cannot be read", func() {
			a := newAssembler("x", 0, "c")
			a.spock = &spockStream{ctx: context.Background(), origins: origins, xids: fakeXIDs{}}
			_, err := feedAll(a, ledger, beginAt(0x1100, 999, tsAt(1)))
			Expect(err).To(MatchError(ContainSubstring("origin of xid 999")))
		})
	})

	Context("before a target's progress may move to the source's", func() {
		source := &survivorState{Survivor: recovery.Survivor{Name: "n2"}, lsn: 0x5000}
		in := recovery.Input{Failed: "n1"}
		target := func(from position) *replayTarget {
			return &replayTarget{st: &survivorState{Survivor: recovery.Survivor{Name: "n3"}}, from: recovery.LSN(from), fromPos: from}
		}

		It("refuses when the stream held none of the failed node's transactions", func() {
			a := newAssembler("o", 0x1000, "c")
			a.stats = streamStats{transactions: 40}
			err := proveComplete(in, source, target(0x1000), 0x1000, a)
			Expect(err).To(MatchError(And(ContainSubstring("held no transaction of n1"), ContainSubstring("(0/1000, 0/5000]"))))
		})

		It("refuses when the stream starts after the target's position, and names both", func() {
			a := newAssembler("o", 0x1000, "c")
			a.stats = streamStats{transactions: 40, originTxns: 3, firstPos: 0x2000, lastPos: 0x5000}
			err := proveComplete(in, source, target(0x1000), 0x1000, a)
			Expect(err).To(MatchError(And(ContainSubstring("starts after n3's position for n1 (origin LSN 0/1000"), ContainSubstring("at origin LSN 0/2000"), ContainSubstring("left at 0/1000"))))
		})

		It("allows it when a transaction the target has passed by first, even if the source's progress lies past the last one", func() {
			a := newAssembler("o", 0x1000, "c")
			a.stats = streamStats{transactions: 40, originTxns: 3, firstPos: 0x0800, lastPos: 0x4000}
			Expect(proveComplete(in, source, target(0x1000), 0x1000, a)).To(Succeed())
		})

		It("refuses a Spock target whose position Spock cannot tell", func() {
			a := newAssembler("o", 0, "c")
			a.stats = streamStats{transactions: 40, originTxns: 3, firstPos: 1, lastPos: 9}
			t := target(0)
			t.unplaced, t.spock = true, true
			Expect(proveComplete(in, source, t, 0x1000, a)).To(MatchError(ContainSubstring("position for n1 is unknown")))
		})

		It("on Spock, places the target by commit time", func() {
			a := newAssembler("o", 0, "c")
			a.stats = streamStats{transactions: 40, originTxns: 3, firstPos: tsPosition(tsAt(3)), lastPos: tsPosition(tsAt(5))}
			t := target(tsPosition(tsAt(2)))
			t.spock = true
			Expect(proveComplete(in, source, t, 0x1000, a)).To(MatchError(ContainSubstring("(commit time")))
			t.fromPos = tsPosition(tsAt(3))
			Expect(proveComplete(in, source, t, 0x1000, a)).To(Succeed())
		})
	})
})

type fakeXIDs map[uint32]uint32

func (f fakeXIDs) OriginOf(_ context.Context, xid uint32) (uint32, error) {
	r, ok := f[xid]
	if !ok {
		return 0, fmt.Errorf("xid %d unknown", xid)
	}
	return r, nil
}

func tsAt(sec int) time.Time { return pgEpochTS.Add(time.Duration(sec) * time.Second) }
