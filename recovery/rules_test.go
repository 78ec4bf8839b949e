package recovery

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the recovery slot advancement rule", func() {
	// S's samples of its origin for X: (origin LSN in X's WAL, end of
	// S's commit record in S's WAL), oldest first.
	samples := []OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x200, Local: 0xB000}, {Origin: 0x300, Local: 0xC000}, {Origin: 0x400, Local: 0xD000}}
	peer := func(name string, at LSN) PeerPosition { return PeerPosition{Node: name, Known: true, Origin: at} }

	It("moves to the newest sample at or below every peer's position, with that sample's origin LSN as the floor", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x350), peer("n4", 0x400)})
		Expect(m.Move).To(BeTrue())
		Expect(m.To).To(Equal(LSN(0xC000)))
		Expect(m.Floor).To(Equal(LSN(0x300)))
	})

	It("takes a sample exactly at a peer's position (the peer has that transaction)", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x200)})
		Expect(m).To(Equal(SlotMove{Move: true, To: 0xB000, Floor: 0x200, Why: m.Why}))
	})

	It("with no peer (two nodes: nobody could need the slot), moves to the newest sample", func() {
		Expect(NextSlotPosition(0x9000, samples, nil).To).To(Equal(LSN(0xD000)))
	})

	It("does not move while a peer lags behind every sample (a lag in force)", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x500), peer("n4", 0x0FF)})
		Expect(m.Move).To(BeFalse())
		Expect(m.Why).To(ContainSubstring("no sample at or below the peers' position 0/FF"))
	})

	It("does not move when a peer's position could not be read (down, paused, partitioned from the host)", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x500), {Node: "n4"}})
		Expect(m.Move).To(BeFalse())
		Expect(m.Why).To(Equal("position of n4 unknown"))
	})

	It("does not move for a peer that has applied nothing of X", func() {
		Expect(NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0)}).Move).To(BeFalse())
	})

	It("never moves backwards or to where it is", func() {
		m := NextSlotPosition(0xC000, samples, []PeerPosition{peer("n3", 0x350)})
		Expect(m.Move).To(BeFalse())
		Expect(m.Why).To(ContainSubstring("already at 0/C000"))
		Expect(NextSlotPosition(0xF000, samples, []PeerPosition{peer("n3", 0x450)}).Move).To(BeFalse())
	})

	It("ignores samples whose local LSN is unknown (S restarted: local_lsn reads 0/0 until S applies X again) or that precede any apply", func() {
		after := []OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x400, Local: 0}, {Origin: 0, Local: 0xE000}}
		m := NextSlotPosition(0x9000, after, []PeerPosition{peer("n3", 0x500)})
		Expect(m.To).To(Equal(LSN(0xA000)))
		Expect(NextSlotPosition(0x9000, after[1:], []PeerPosition{peer("n3", 0x500)}).Move).To(BeFalse())
	})

	It("does not move without samples", func() {
		Expect(NextSlotPosition(0x9000, nil, []PeerPosition{peer("n3", 0x500)}).Move).To(BeFalse())
	})

	It("keeps the samples from the new position on, so that a later round can still look back to it", func() {
		Expect(dropBefore(samples, 0xB000)).To(Equal(samples[1:]))
		Expect(dropBefore(samples, 0xF000)).To(BeEmpty())
	})
})

var _ = Describe("a floor message in the recovery stream", func() {
	ledger := relationMsg(16400, "public", "ledger", "*txn_id", "*seq", "origin", "payload")
	floor := func(origin, local string) string {
		return "sub_n2_n3 pgl_postgres_n3_sub_n2_n3 0/9000 0/9100\nsub_n2_n1 " + failedOrigin + " " + origin + " " + local
	}
	target := func(from LSN) *replayTarget {
		return &replayTarget{st: &survivorState{Survivor: Survivor{Name: "n3"}}, from: from, fromPos: position(from)}
	}
	source := &survivorState{Survivor: Survivor{Name: "n2"}, lsn: 0x5000}
	in := Input{Failed: "n1"}

	It("covers a target at or past its origin LSN when it is valid from the stream's start, and proves the stream complete", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		a.start = 0xA000
		// The transaction of n1 placed right after the floor's sample:
		// the target has applied up to 0x2000 and lacks it.
		_, err := feedAll(a, ledger,
			begin(0xA100, 700), origin(0x2100, failedOrigin), insertMsg(16400, s("a"), s("1"), s("n1"), s("p")), commit(0xA100))
		Expect(err).NotTo(HaveOccurred())
		Expect(covered(a, target(0x2000))).To(BeFalse(), "no transaction at or before 0x2000 passed and no floor yet")
		_, err = feedAll(a, logicalMsg(FloorMessagePrefix, floor("0/2000", "0/A000")))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.floorSet).To(BeTrue())
		Expect(a.floor).To(Equal(LSN(0x2000)))
		Expect(covered(a, target(0x2000))).To(BeTrue())
		Expect(covered(a, target(0x1FFF))).To(BeFalse(), "a target behind the floor may lack transactions before the stream's start")
		Expect(proveComplete(in, source, target(0x2000), 0x2000, a)).To(Succeed())
		Expect(proveComplete(in, source, target(0x1FFF), 0x1FFF, a)).To(MatchError(ContainSubstring("floor message at origin LSN 0/2000")))
	})

	It("is no proof when the slot has moved past its local LSN (the stream starts after it)", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		a.start = 0xA001
		_, err := feedAll(a, logicalMsg(FloorMessagePrefix, floor("0/2000", "0/A000")))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.floorSet).To(BeFalse())
		Expect(covered(a, target(0x3000))).To(BeFalse())
		a.stats.originTxns, a.stats.firstPos = 1, 0x4000
		Expect(proveComplete(in, source, target(0x3000), 0x3000, a)).To(MatchError(ContainSubstring("no floor message valid from the stream's start 0/A001")))
	})

	It("is ignored for another origin, for an unknown local LSN, and keeps the first (lowest) floor", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		_, err := feedAll(a,
			logicalMsg(FloorMessagePrefix, "sub_n2_n1 other 0/1000 0/A000"),
			logicalMsg(FloorMessagePrefix, floor("0/1000", "0/0")),
			logicalMsg(FloorMessagePrefix, floor("0/2000", "0/A000")),
			logicalMsg(FloorMessagePrefix, floor("0/3000", "0/B000")))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.floor).To(Equal(LSN(0x2000)))
	})

	It("lets a stream with nothing of the failed node prove a covered target complete (it lacked only empty transactions)", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		a.floor, a.floorSet = 0x2000, true
		Expect(proveComplete(in, source, target(0x2000), 0x2000, a)).To(Succeed())
		a.floorSet = false
		Expect(proveComplete(in, source, target(0x2000), 0x2000, a)).To(MatchError(ContainSubstring("held no transaction of n1")))
	})

	Describe("where a recovery may advance its clone (streamStart)", func() {
		// The source's samples of its origin for the failed node.
		samples := []OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x200, Local: 0xB000}, {Origin: 0x300, Local: 0xC000}, {Origin: 0x400, Local: 0xD000}}
		It("to the newest sample at or below every target's position, past the clone's start", func() {
			to, ok := streamStart(0xA800, samples, []LSN{0x350, 0x420})
			Expect(ok).To(BeTrue())
			Expect(to).To(Equal(OriginSample{Origin: 0x300, Local: 0xC000}))
		})

		It("takes a sample exactly at a target's position (the target has that transaction)", func() {
			to, ok := streamStart(0xA800, samples, []LSN{0x200})
			Expect(ok).To(BeTrue())
			Expect(to.Local).To(Equal(LSN(0xB000)))
		})

		It("not at all when every qualifying sample is at or before the clone's start (the keeper placed the slot already)", func() {
			_, ok := streamStart(0xC000, samples, []LSN{0x350})
			Expect(ok).To(BeFalse())
		})

		It("not for a target that applied nothing of the failed node, nor one behind every sample, nor without targets", func() {
			for _, targets := range [][]LSN{{0x400, 0}, {0x0FF}, nil} {
				_, ok := streamStart(0x9000, samples, targets)
				Expect(ok).To(BeFalse(), "targets %v", targets)
			}
		})

		It("ignores samples with nothing known (0/0 after a restart of the source)", func() {
			_, ok := streamStart(0x9000, []OriginSample{{Origin: 0, Local: 0xF000}, {Origin: 0x100, Local: 0}}, []LSN{0x500})
			Expect(ok).To(BeFalse())
		})
	})
})

var _ = Describe("the stream's safety rules", func() {
	DescribeTable("covers: the stream holds every transaction of the failed node a target lacks",
		func(p streamProof, from LSN, want bool) {
			Expect(covers(p, position(from), from)).To(Equal(want))
		},
		Entry("a target at 0/0: everything it lacks is past the slot's position", streamProof{}, LSN(0), true),
		Entry("a transaction at the target's position passed by", streamProof{firstPos: 0x2000, originTxns: 1}, LSN(0x2000), true),
		Entry("one before it passed by", streamProof{firstPos: 0x1000, originTxns: 1}, LSN(0x2000), true),
		Entry("the first one passed lies after the target: not proven", streamProof{firstPos: 0x2001, originTxns: 1}, LSN(0x2000), false),
		Entry("nothing passed, no floor: not proven", streamProof{}, LSN(0x2000), false),
		Entry("a floor at the target's position", streamProof{floor: 0x2000, floorSet: true}, LSN(0x2000), true),
		Entry("a floor past the target's position: not proven", streamProof{floor: 0x2001, floorSet: true}, LSN(0x2000), false),
	)

	DescribeTable("floorValid: a floor message is a proof point only when valid from the stream's start",
		func(smp OriginSample, start LSN, want bool) { Expect(floorValid(smp, start)).To(Equal(want)) },
		Entry("local LSN at the start", OriginSample{Origin: 0x100, Local: 0xA000}, LSN(0xA000), true),
		Entry("local LSN past the start", OriginSample{Origin: 0x100, Local: 0xA001}, LSN(0xA000), true),
		Entry("local LSN before the start (the slot moved past it)", OriginSample{Origin: 0x100, Local: 0x9FFF}, LSN(0xA000), false),
		Entry("local LSN unknown (a restart)", OriginSample{Origin: 0x100}, LSN(0), false),
		Entry("nothing applied yet", OriginSample{Local: 0xA000}, LSN(0xA000), false),
	)

	DescribeTable("completeness: a target's progress moves to the source's only over what is accounted for",
		func(p streamProof, from LSN, unplaced bool, want gapReason) {
			Expect(completeness(p, position(from), from, unplaced)).To(Equal(want))
		},
		Entry("covered by a transaction it had", streamProof{firstPos: 0x1000, originTxns: 3}, LSN(0x1000), false, complete),
		Entry("covered by a floor, with nothing of the failed node in the stream", streamProof{floor: 0x1000, floorSet: true}, LSN(0x1000), false, complete),
		Entry("nothing of the failed node, no floor", streamProof{}, LSN(0x1000), false, noFailedTxn),
		Entry("nothing of the failed node, a floor past the target", streamProof{floor: 0x1001, floorSet: true}, LSN(0x1000), false, noFailedTxn),
		Entry("a target whose position is unknown", streamProof{firstPos: 1, originTxns: 3}, LSN(0), true, unplacedTarget),
		Entry("the stream starts after the target", streamProof{firstPos: 0x2000, originTxns: 3}, LSN(0x1000), false, notCovered),
	)

	DescribeTable("reusable: a stream started before the fence serves the final plan",
		func(same bool, targets int, lowest, after position, want bool) {
			Expect(reusable(same, targets, lowest, after)).To(Equal(want))
		},
		Entry("same source, targets at its position", true, 2, position(0x1000), position(0x1000), true),
		Entry("same source, targets past it", true, 1, position(0x1800), position(0x1000), true),
		Entry("another source", false, 1, position(0x1000), position(0x1000), false),
		Entry("no target left", true, 0, position(0x1000), position(0x1000), false),
		Entry("a target behind it", true, 1, position(0x0FFF), position(0x1000), false),
	)
})
